// The secure default container: what `gantry runtime spec` writes (as `runc spec` does) and
// what Gantry's own callers start from before filling in their image, command and limits.
// runc's default mounts, namespaces, masked and read-only paths; Docker's default capability
// set; the built-in seccomp profile (runtime/seccomp/default_profile.h); no new privileges.
// Pure; thread-safe.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "runtime/container_spec.h"

namespace gantry::runtime {

// Docker's default capabilities (the bounding, effective and permitted sets).
const std::vector<std::string>& default_capabilities();

struct DefaultSpecOptions {
  std::vector<std::string> args = {"sh"};
  std::string root_path = "rootfs";  // as written in config.json; relative to the bundle
  // Rootless (as `runc spec --rootless`): a user namespace mapping `host_uid`/`host_gid` to
  // root, /sys bind-mounted instead of a new sysfs, no cgroup mount and no device rules.
  bool rootless = false;
  uid_t host_uid = 0;
  gid_t host_gid = 0;
};

ContainerSpec default_container_spec(const DefaultSpecOptions& options = {});

}  // namespace gantry::runtime
