// Picks the CgroupManager for a host: v2 on a unified host, v1 on a v1 or hybrid host (where
// the process is also tracked in the cgroup2 mount). resolve_cgroup_path() turns OCI
// linux.cgroupsPath into the path the managers take. Used by the launcher and the OCI runtime
// commands (create, kill, delete, update, events). No state.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "runtime/cgroups/cgroup_fs.h"
#include "runtime/cgroups/detect.h"
#include "runtime/cgroups/manager.h"

namespace gantry::runtime {

// linux.cgroupsPath → cgroup path: "" → "/gantry/<id>"; absolute → as given; relative →
// under "/gantry". A systemd "slice:prefix:name" path is kUnimplemented (Gantry drives
// cgroupfs directly). Paths with "." or ".." components are kInvalidArgument.
Result<std::string> resolve_cgroup_path(std::string_view cgroups_path, std::string_view id);

// A manager for the cgroup at `path` (from resolve_cgroup_path()) on a host with `layout`.
// `fs` (nullptr: the real one) must outlive the manager.
Result<std::unique_ptr<CgroupManager>> make_cgroup_manager(const std::string& path,
                                                           const CgroupLayout& layout,
                                                           CgroupFs* fs = nullptr);

// make_cgroup_manager() for this host's layout (detect_cgroup_layout()).
Result<std::unique_ptr<CgroupManager>> make_cgroup_manager(const std::string& path);

}  // namespace gantry::runtime
