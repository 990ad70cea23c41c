#include "runtime/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/init.h"
#include "runtime/mounts.h"

namespace gantry::runtime {

namespace {

void make_device(int root_fd, const DeviceOp& d, int index) {
  const char* path = d.path.c_str();
  if (d.bind) {
    // mknod is denied in a user namespace: bind the host's node over an empty file.
    int fd = open_in_root(root_fd, path, Create::kFile);
    if (fd < 0) init_fail(InitStep::kBindDevice, -fd, index);
    char proc[32];
    proc_fd_path(fd, proc);
    if (::mount(path, proc, nullptr, MS_BIND, nullptr) != 0) {
      init_fail(InitStep::kBindDevice, errno, index);
    }
    ::close(fd);
    return;
  }
  const char* base = nullptr;
  int dir = open_parent_in_root(root_fd, path, &base);
  if (dir < 0) init_fail(InitStep::kMknod, -dir, index);
  if (::mknodat(dir, base, d.mode, d.dev) != 0 && errno != EEXIST) {
    init_fail(InitStep::kMknod, errno, index);
  }
  if (::fchownat(dir, base, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    init_fail(InitStep::kChownDevice, errno, index);
  }
  ::close(dir);
}

void make_symlink(int root_fd, const char* target, const char* link, int index, bool replace) {
  const char* base = nullptr;
  int dir = open_parent_in_root(root_fd, link, &base);
  if (dir < 0) init_fail(InitStep::kSymlink, -dir, index);
  if (replace) (void)::unlinkat(dir, base, 0);
  if (::symlinkat(target, dir, base) != 0 && errno != EEXIST) {
    init_fail(InitStep::kSymlink, errno, index);
  }
  ::close(dir);
}

}  // namespace

void prepare_rootfs(const LaunchPlan& plan, void (*enter_cgroup)(const LaunchPlan&)) {
  const char* rootfs = plan.rootfs.c_str();
  // Nothing done below may reach the host's mount table.
  if (::mount(nullptr, "/", nullptr, plan.root_propagation, nullptr) != 0) {
    init_fail(InitStep::kRootPropagation, errno);
  }
  if (!plan.overlay_data.empty()) {
    if (::mount("overlay", rootfs, "overlay", 0, plan.overlay_data.c_str()) != 0) {
      init_fail(InitStep::kMountOverlay, errno, -1, rootfs);
    }
  } else if (::mount(rootfs, rootfs, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    // pivot_root needs the new root to be a mount point.
    init_fail(InitStep::kBindRoot, errno, -1, rootfs);
  }
  int root_fd = ::open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) init_fail(InitStep::kOpenRoot, errno, -1, rootfs);

  // Devices are created with exactly their configured modes.
  ::umask(0);
  bool entered = false;
  for (size_t i = 0; i < plan.mounts.size(); ++i) {
    if (!entered && static_cast<int>(i) == plan.first_cgroup_ns_mount) {
      enter_cgroup(plan);
      entered = true;
    }
    InitStep step = InitStep::kMount;
    int err = apply_mount(root_fd, plan.mounts[i], &step);
    if (err != 0) init_fail(step, err, static_cast<int>(i));
  }
  if (!entered) enter_cgroup(plan);
  if (plan.setup_dev) {
    for (size_t i = 0; i < plan.devices.size(); ++i) {
      make_device(root_fd, plan.devices[i], static_cast<int>(i));
    }
    if (plan.ptmx_symlink) make_symlink(root_fd, "pts/ptmx", "/dev/ptmx", -1, true);
  }
  for (size_t i = 0; i < plan.symlinks.size(); ++i) {
    make_symlink(root_fd, plan.symlinks[i].target.c_str(), plan.symlinks[i].link.c_str(),
                 static_cast<int>(i), false);
  }
  ::close(root_fd);
}

void pivot_into_rootfs(const LaunchPlan& plan) {
  int new_root = ::open(plan.rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (new_root < 0) init_fail(InitStep::kPivotRoot, errno, -1, plan.rootfs.c_str());
  if (::fchdir(new_root) != 0) init_fail(InitStep::kPivotRoot, errno, -1, plan.rootfs.c_str());
  // pivot_root(".", ".") stacks the old root on top of the new one; detaching it then leaves
  // only the new root, with no put_old directory needed inside the container.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) {
    init_fail(InitStep::kPivotRoot, errno, -1, plan.rootfs.c_str());
  }
  // Keep the unmount from propagating to the host.
  if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
    init_fail(InitStep::kPivotRoot, errno, -1, "/");
  }
  if (::umount2(".", MNT_DETACH) != 0) init_fail(InitStep::kPivotRoot, errno, -1, "/");
  if (::chdir("/") != 0) init_fail(InitStep::kPivotRoot, errno, -1, "/");
  ::close(new_root);
}

void finalize_rootfs(const LaunchPlan& plan) {
  for (size_t i = 0; i < plan.sysctls.size(); ++i) {
    const SysctlOp& s = plan.sysctls[i];
    int fd = ::open(s.path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) init_fail(InitStep::kSysctl, errno, static_cast<int>(i));
    ssize_t n = ::write(fd, s.value.data(), s.value.size());
    if (n < 0 || static_cast<size_t>(n) != s.value.size()) {
      init_fail(InitStep::kSysctl, n < 0 ? errno : EIO, static_cast<int>(i));
    }
    ::close(fd);
  }
  int root_fd = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) init_fail(InitStep::kOpenRoot, errno, -1, "/");
  char proc[32];
  for (size_t i = 0; i < plan.readonly_paths.size(); ++i) {
    const char* path = plan.readonly_paths[i].c_str();
    int fd = open_in_root(root_fd, path, Create::kNone);
    if (fd == -ENOENT) continue;
    if (fd < 0) init_fail(InitStep::kReadonlyPath, -fd, static_cast<int>(i));
    proc_fd_path(fd, proc);
    if (::mount(proc, proc, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      init_fail(InitStep::kReadonlyPath, errno, static_cast<int>(i));
    }
    ::close(fd);
    fd = open_in_root(root_fd, path, Create::kNone);
    if (fd < 0) init_fail(InitStep::kReadonlyPath, -fd, static_cast<int>(i));
    proc_fd_path(fd, proc);
    if (::mount(nullptr, proc, nullptr,
                MS_BIND | MS_REMOUNT | MS_RDONLY | locked_mount_flags(fd), nullptr) != 0) {
      init_fail(InitStep::kReadonlyPath, errno, static_cast<int>(i));
    }
    ::close(fd);
  }
  for (size_t i = 0; i < plan.masked_paths.size(); ++i) {
    int fd = open_in_root(root_fd, plan.masked_paths[i].c_str(), Create::kNone);
    if (fd == -ENOENT) continue;
    if (fd < 0) init_fail(InitStep::kMaskPath, -fd, static_cast<int>(i));
    struct stat st;
    if (::fstat(fd, &st) != 0) init_fail(InitStep::kMaskPath, errno, static_cast<int>(i));
    proc_fd_path(fd, proc);
    int r = S_ISDIR(st.st_mode) ? ::mount("tmpfs", proc, "tmpfs", MS_RDONLY, nullptr)
                                : ::mount("/dev/null", proc, nullptr, MS_BIND, nullptr);
    if (r != 0) init_fail(InitStep::kMaskPath, errno, static_cast<int>(i));
    ::close(fd);
  }
  if (plan.readonly_root) {
    if (::mount(nullptr, "/", nullptr,
                MS_BIND | MS_REMOUNT | MS_RDONLY | locked_mount_flags(root_fd), nullptr) != 0) {
      init_fail(InitStep::kRemountRootReadonly, errno, -1, "/");
    }
  }
  ::close(root_fd);
}

}  // namespace gantry::runtime
