// Applying an image config when running a container, with Docker's rules: the caller's
// entrypoint replaces the image's (and drops its Cmd), a given command replaces Cmd, env
// entries override by key, WorkingDir defaults to "/", User is resolved against the image's
// own /etc/passwd and /etc/group. Used by the job executor and `container run` to fill
// ContainerSpec::process. resolve_* are PURE; read_image_file reads snapshots. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "runtime/container_spec.h"
#include "runtime/image/manifest.h"

namespace gantry::runtime::image {

constexpr std::string_view kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct RunOverrides {
  std::optional<std::vector<std::string>> entrypoint;  // set (even empty): replaces the image's
  std::vector<std::string> cmd;                        // non-empty: replaces the image's Cmd
  std::vector<std::string> env;                        // "KEY=value", override by key
  std::string working_dir;                             // "": the image's
  std::string user;                                    // "": the image's
};

struct RunConfig {
  std::vector<std::string> args;
  std::vector<std::string> env;  // PATH always present
  std::string cwd;               // absolute
  std::string user;              // the spec to resolve ("" = root)
};

// kInvalidArgument when nothing is left to run or a directory is relative.
Result<RunConfig> resolve_run_config(const ImageConfig& config, const RunOverrides& overrides);

// Resolves "uid", "uid:gid", "name", "name:group" (mixes allowed) against the contents of the
// image's /etc/passwd and /etc/group (either may be empty). A user's primary group comes from
// passwd; its supplementary groups from group. kNotFound names a missing user or group.
Result<User> resolve_user(std::string_view spec, std::string_view passwd, std::string_view group);

// Fills process args, env, cwd and user.
void apply_run_config(const RunConfig& run, const User& user, Process& process);

// The content of `path` (absolute, e.g. "/etc/passwd") as the image shows it: the topmost
// layer (lower_dirs lowest first) that has it as a regular file, stopping at whiteouts and
// opaque directories. Symlinks are not followed. kNotFound if the image has no such file.
Result<std::string> read_image_file(const std::vector<std::string>& lower_dirs,
                                    const std::string& path);

}  // namespace gantry::runtime::image
