// Where the OCI runtime keeps container state. `gantry runtime` commands, the launcher (exec
// fifo) and Gantry's agent (cleanup after a crash) all find a container's files through here.
// Pure string functions; thread-safe.
//
//   <runtime root>/              `gantry runtime --root DIR`, default <gantry root>/containers
//   └── <id>/                    one container: made by create, removed by delete (mode 0711)
//       ├── state.json           ContainerState (runtime/state.h), replaced atomically
//       ├── lock                 flock()ed by every command that reads-then-changes the container
//       └── exec.fifo            create's init blocks opening it for writing; `start` opens it
//                                for reading and removes it; gone == started
#pragma once

#include <string>
#include <string_view>

#include "common/file.h"

namespace gantry::runtime::paths {

inline constexpr std::string_view kDefaultRuntimeDirName = "containers";

// The runtime root for a Gantry state root: "<root>/containers".
inline std::string runtime_root(std::string_view gantry_root) {
  return join_path(gantry_root, kDefaultRuntimeDirName);
}
inline std::string container_dir(std::string_view runtime_root, std::string_view id) {
  return join_path(runtime_root, id);
}
inline std::string state_file(std::string_view container_dir) {
  return join_path(container_dir, "state.json");
}
inline std::string lock_file(std::string_view container_dir) {
  return join_path(container_dir, "lock");
}
inline std::string exec_fifo(std::string_view container_dir) {
  return join_path(container_dir, "exec.fifo");
}

}  // namespace gantry::runtime::paths
