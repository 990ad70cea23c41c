// Starting the container's init: clone() with namespace flags, like fork() (the child runs on
// a copy of the caller's stack), and on cgroup2 straight into the container's cgroup with
// clone3(CLONE_INTO_CGROUP) (Linux 5.7+), which spares the parent a cgroup.procs write and the
// child a moment outside its cgroup. When the kernel refuses clone3 or the cgroup (an older
// kernel, a seccomp filter around us, a cgroup it will not put a task in), it falls back to
// clone() and says so: the caller then moves the child itself. Used by runtime/launcher.cc.
#pragma once

#include <sys/types.h>

namespace gantry::runtime {

struct ClonedChild {
  pid_t pid = -1;          // 0 in the child; -1 with errno set when both ways failed
  bool in_cgroup = false;  // the kernel put the child in `cgroup_fd`'s cgroup
};

// `flags`: CLONE_NEW* flags (SIGCHLD is added); `cgroup_fd`: an open cgroup2 directory, or -1.
ClonedChild clone_child(unsigned long flags, int cgroup_fd);

}  // namespace gantry::runtime
