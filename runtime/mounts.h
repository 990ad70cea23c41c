// Child-side mount helpers: resolving a container path safely inside the rootfs (openat2
// RESOLVE_IN_ROOT, so neither a symlink nor ".." can lead out), creating mount points, and
// applying one MountOp. Called only by the container's init (runtime/init.cc, rootfs.cc):
// stack buffers only, return an errno instead of throwing.
#pragma once

#include "runtime/launch_plan.h"
#include "runtime/sync.h"

namespace gantry::runtime {

enum class Create { kNone, kDir, kFile };

// Opens `path` (absolute, inside the root `root_fd`) as an O_PATH fd, never leaving the root.
// With kDir/kFile, missing components are made as directories and the last one as a directory
// or an empty file. Returns the fd, or -errno.
int open_in_root(int root_fd, const char* path, Create create);

// Opens the parent directory of `path` inside the root (creating it) and points `*base` at the
// last component of `path`. Returns the fd, or -errno.
int open_parent_in_root(int root_fd, const char* path, const char** base);

// "/proc/self/fd/<fd>" into `buf` (at least 32 bytes).
void proc_fd_path(int fd, char* buf);

// MS_* flags of the mount `fd` sits on that a remount must keep (locked in a user namespace).
unsigned long locked_mount_flags(int fd);

// Applies one mount op inside the root; returns 0 or errno, with the failing step in `*step`.
int apply_mount(int root_fd, const MountOp& op, InitStep* step);

}  // namespace gantry::runtime
