#include "runtime/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace gantry::runtime {

namespace {

int openat2_in_root(int root_fd, const char* path) {
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  // A leading '/' is fine: with RESOLVE_IN_ROOT it means the root of root_fd.
  int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, path, &how, sizeof how));
  return fd >= 0 ? fd : -errno;
}

}  // namespace

void proc_fd_path(int fd, char* buf) { ::snprintf(buf, 32, "/proc/self/fd/%d", fd); }

int open_in_root(int root_fd, const char* path, Create create) {
  int fd = openat2_in_root(root_fd, path);
  if (fd >= 0 || fd != -ENOENT || create == Create::kNone) return fd;

  // Walk the path one component at a time, making what is missing inside the component's
  // already-resolved parent, so a symlink can never point the creation elsewhere.
  char buf[PATH_MAX];
  size_t len = ::strlen(path);
  if (len >= sizeof buf) return -ENAMETOOLONG;
  ::memcpy(buf, path, len + 1);
  int parent = ::fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
  if (parent < 0) return -errno;
  size_t i = 0;
  while (i < len) {
    while (i < len && buf[i] == '/') ++i;
    if (i >= len) break;
    size_t start = i;
    while (i < len && buf[i] != '/') ++i;
    bool last = i >= len;
    char saved = buf[i];
    buf[i] = '\0';
    int next = openat2_in_root(root_fd, buf);
    if (next == -ENOENT) {
      const char* name = buf + start;
      int r;
      if (last && create == Create::kFile) {
        r = ::openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (r >= 0) ::close(r);
      } else {
        r = ::mkdirat(parent, name, 0755);
      }
      if (r < 0 && errno != EEXIST) {
        int err = errno;
        ::close(parent);
        return -err;
      }
      next = openat2_in_root(root_fd, buf);
    }
    buf[i] = saved;
    ::close(parent);
    if (next < 0) return next;
    parent = next;
  }
  return parent;
}

int open_parent_in_root(int root_fd, const char* path, const char** base) {
  char buf[PATH_MAX];
  size_t len = ::strlen(path);
  if (len >= sizeof buf) return -ENAMETOOLONG;
  ::memcpy(buf, path, len + 1);
  char* slash = ::strrchr(buf, '/');
  if (slash == nullptr || slash[1] == '\0') return -EINVAL;
  *base = path + (slash - buf) + 1;
  if (slash == buf) {
    slash[1] = '\0';
  } else {
    *slash = '\0';
  }
  return open_in_root(root_fd, buf, Create::kDir);
}

unsigned long locked_mount_flags(int fd) {
  struct statvfs st;
  if (::fstatvfs(fd, &st) != 0) return 0;
  unsigned long flags = 0;
  if (st.f_flag & ST_RDONLY) flags |= MS_RDONLY;
  if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

namespace {

// Runs mount() on the freshly reopened destination (so it acts on the mount just made there).
int on_destination(int root_fd, const char* dest, const char* source, const char* fstype,
                   unsigned long flags, const char* data, bool keep_locked) {
  int fd = open_in_root(root_fd, dest, Create::kNone);
  if (fd < 0) return -fd;
  char proc[32];
  proc_fd_path(fd, proc);
  int r = ::mount(source, proc, fstype, flags, data);
  if (r != 0 && errno == EPERM && keep_locked) {
    // In a user namespace, flags of the original mount are locked: keep them and retry.
    r = ::mount(source, proc, fstype, flags | locked_mount_flags(fd), data);
  }
  int err = r == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

constexpr unsigned long kRemountable = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
                                       MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
                                       MS_STRICTATIME | MS_SYNCHRONOUS | MS_DIRSYNC | MS_LAZYTIME;

}  // namespace

int apply_mount(int root_fd, const MountOp& op, InitStep* step) {
  const char* dest = op.destination.c_str();
  switch (op.kind) {
    case MountOp::Kind::kRemount: {
      *step = InitStep::kRemount;
      return on_destination(root_fd, dest, nullptr, nullptr, MS_REMOUNT | op.flags,
                            op.data.empty() ? nullptr : op.data.c_str(), false);
    }
    case MountOp::Kind::kBind: {
      *step = InitStep::kStatBindSource;
      struct stat st;
      if (::stat(op.source.c_str(), &st) != 0) return errno;
      *step = InitStep::kMkdirMountpoint;
      int fd = open_in_root(root_fd, dest, S_ISDIR(st.st_mode) ? Create::kDir : Create::kFile);
      if (fd < 0) return -fd;
      char proc[32];
      proc_fd_path(fd, proc);
      *step = InitStep::kMount;
      int r = ::mount(op.source.c_str(), proc, nullptr,
                      MS_BIND | (op.recursive ? MS_REC : 0), nullptr);
      int err = r == 0 ? 0 : errno;
      ::close(fd);
      if (err != 0) return err;
      if (op.flags & kRemountable) {
        *step = InitStep::kRemount;
        err = on_destination(root_fd, dest, nullptr, nullptr,
                             MS_REMOUNT | MS_BIND | (op.flags & kRemountable), nullptr, true);
        if (err != 0) return err;
      }
      break;
    }
    case MountOp::Kind::kMount: {
      *step = InitStep::kMkdirMountpoint;
      int fd = open_in_root(root_fd, dest, Create::kDir);
      if (fd < 0) return -fd;
      char proc[32];
      proc_fd_path(fd, proc);
      *step = InitStep::kMount;
      int r = ::mount(op.source.c_str(), proc, op.fstype.c_str(), op.flags,
                      op.data.empty() ? nullptr : op.data.c_str());
      int err = r == 0 ? 0 : errno;
      ::close(fd);
      if (err != 0) return err;
      break;
    }
  }
  if (op.propagation != 0) {
    *step = InitStep::kPropagation;
    return on_destination(root_fd, dest, nullptr, nullptr, op.propagation, nullptr, false);
  }
  return 0;
}

}  // namespace gantry::runtime
