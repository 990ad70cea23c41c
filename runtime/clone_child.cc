#include "runtime/clone_child.h"

#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace gantry::runtime {

namespace {

#ifndef CLONE_INTO_CGROUP
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;
#else
constexpr uint64_t kCloneIntoCgroup = CLONE_INTO_CGROUP;
#endif

// struct clone_args of Linux 5.7 (CLONE_ARGS_SIZE_VER2), spelled out so that older headers
// build it too.
struct CloneArgs {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};

}  // namespace

ClonedChild clone_child(unsigned long flags, int cgroup_fd) {
  ClonedChild out;
  if (cgroup_fd >= 0) {
    CloneArgs args{};
    args.flags = static_cast<uint64_t>(flags) | kCloneIntoCgroup;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid >= 0) {
      out.pid = static_cast<pid_t>(pid);
      out.in_cgroup = true;
      return out;
    }
    // Anything but a failure to make a process at all means "not this way": fall back.
    if (errno == ENOMEM || errno == EAGAIN) return out;
  }
  out.pid =
      static_cast<pid_t>(::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  return out;
}

}  // namespace gantry::runtime
