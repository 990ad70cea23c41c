// Where the OCI runtime keeps container state. `gantry runtime` commands, the launcher (exec
// fifo) and Gantry's agent (cleanup after a crash) all find a container's files through here.
// Pure string functions; thread-safe.
//
//   <runtime root>/              `gantry runtime --root DIR`, default <gantry root>/containers
//   └── <id>/                    one container: made by create, removed by delete (mode 0711)
//       ├── state.json           ContainerState (runtime/state.h), replaced atomically
//       ├── lock                 write-locked (fcntl) by every command that reads-then-changes it
//       └── exec.fifo            create's init blocks opening it for writing; `start` opens it
//                                for reading and removes it; gone == started
//   .seccomp-cache/<16 hex>.json compiled seccomp filters (runtime/seccomp/cache.h), 0700; a
//                                dot name is never a container id
//
// Images (runtime/image/), under the Gantry state root:
//   <gantry root>/
//   ├── blobs/sha256/<hex>       verified image blobs (manifests, configs, layers), read-only
//   ├── ingest/                  blobs being written: <hex>.lock (flock), <hex>.<rand> temp files
//   ├── images.json              image name → manifest/config/layers/chain ids, atomic rewrite
//   ├── images.lock              flock for images.json read-modify-write
//   ├── gc.lock                  shared by pulls/loads/imports, exclusive for `image prune`
//   ├── bundles/<id>/            containers made from images (agent/container_manager.h)
//   └── snapshots/
//       ├── <chain-hex>/         one layer unpacked (an overlayfs lowerdir), shared by images
//       ├── .tmp-<chain-hex>-*   a layer being unpacked; renamed into place when verified
//       └── .locks/<chain-hex>   flock per chain id while unpacking or removing
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
inline std::string seccomp_cache_dir(std::string_view runtime_root) {
  return join_path(runtime_root, ".seccomp-cache");
}
inline std::string lock_file(std::string_view container_dir) {
  return join_path(container_dir, "lock");
}
inline std::string exec_fifo(std::string_view container_dir) {
  return join_path(container_dir, "exec.fifo");
}

inline std::string blobs_dir(std::string_view gantry_root) {
  return join_path(gantry_root, "blobs/sha256");
}
inline std::string snapshots_dir(std::string_view gantry_root) {
  return join_path(gantry_root, "snapshots");
}

}  // namespace gantry::runtime::paths
