#include "runtime/seccomp/default_profile.h"

#include <cerrno>
#include <string>
#include <vector>

namespace gantry::runtime {
namespace {

// Syscalls every container may make. Names the running libseccomp does not know are skipped
// at compile time, so newer syscalls can be listed before every system knows them. Left out
// on purpose (they fail with EPERM): acct, add_key, bpf, clock_settime(64), create_module,
// delete_module, fanotify_init, finit_module, fsconfig, fsmount, fsopen, fspick,
// get_kernel_syms, get_mempolicy, init_module, io_uring_*, ioperm, iopl, kcmp,
// kexec_file_load, kexec_load, keyctl, lookup_dcookie, mbind, migrate_pages, mount,
// mount_setattr, move_mount, move_pages, nfsservctl, open_by_handle_at, open_tree,
// perf_event_open, pidfd_getfd, pivot_root, process_madvise, query_module, quotactl(_fd),
// reboot, request_key, set_mempolicy, setdomainname, sethostname, setns, settimeofday, stime,
// swapoff, swapon, _sysctl, syslog, umount, umount2, unshare, uselib, userfaultfd, ustat,
// vhangup, vm86, vm86old.
const char* const kAllowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
    "capset", "chdir", "chmod", "chown", "chown32", "chroot", "clock_adjtime",
    "clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime",
    "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range",
    "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
    "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
    "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
    "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
    "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl",
    "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
    "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
    "futex_wake", "futimesat", "get_robust_list", "get_thread_area", "getcpu", "getcwd",
    "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid",
    "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp",
    "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid",
    "getresuid32", "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt", "gettid",
    "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init",
    "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents",
    "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit", "ioctl", "ioprio_get",
    "ioprio_set", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
    "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
    "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
    "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret",
    "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
    "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
    "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
    "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
    "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
    "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
    "prlimit64", "process_mrelease", "process_vm_readv", "process_vm_writev", "pselect6",
    "pselect6_time64", "ptrace", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
    "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64",
    "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat", "renameat2",
    "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
    "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max",
    "sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
    "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
    "set_robust_list", "set_thread_area", "set_tid_address", "setfsgid", "setfsgid32",
    "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer",
    "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32",
    "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "setsid", "setsockopt",
    "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
    "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall",
    "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink",
    "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time",
    "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
    "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
    "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate",
    "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
    "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
#if defined(__x86_64__) || defined(__i386__)
    "arch_prctl", "modify_ldt",
#endif
#if defined(__aarch64__) || defined(__arm__)
    "arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush", "set_tls",
    "sync_file_range2",
#endif
#if defined(__powerpc__) || defined(__powerpc64__)
    "sync_file_range2",
#endif
#if defined(__riscv)
    "riscv_flush_icache",
#endif
};

SeccompSyscall allow(std::vector<std::string> names, std::vector<SeccompArg> args = {}) {
  SeccompSyscall s;
  s.names = std::move(names);
  s.action = "SCMP_ACT_ALLOW";
  s.args = std::move(args);
  return s;
}

SeccompArg arg(uint32_t index, std::string op, uint64_t value, uint64_t value_two = 0) {
  SeccompArg a;
  a.index = index;
  a.value = value;
  a.value_two = value_two;
  a.op = std::move(op);
  return a;
}

}  // namespace

Seccomp default_seccomp_profile() {
  Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = EPERM;
#if defined(__x86_64__)
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
#elif defined(__aarch64__)
  s.architectures = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#endif

  s.syscalls.push_back(allow(std::vector<std::string>(std::begin(kAllowed), std::end(kAllowed))));

  // personality(2): only the personas that change nothing security-relevant. 0xffffffff
  // queries the current persona.
  for (uint64_t persona : {0x0ULL, 0x8ULL /* PER_LINUX32 */, 0x20000ULL /* UNAME26 */,
                           0x20008ULL /* UNAME26|PER_LINUX32 */, 0xffffffffULL}) {
    s.syscalls.push_back(allow({"personality"}, {arg(0, "SCMP_CMP_EQ", persona)}));
  }

  // socket(2): every family but AF_VSOCK (40), which reaches the host through the hypervisor.
  s.syscalls.push_back(allow({"socket"}, {arg(0, "SCMP_CMP_NE", 40)}));

  // clone(2) without namespace flags. The flags are argument 0 everywhere but s390, where
  // the kernel swaps the first two arguments.
#if defined(__s390__) || defined(__s390x__)
  const uint32_t clone_flags_arg = 1;
#else
  const uint32_t clone_flags_arg = 0;
#endif
  s.syscalls.push_back(
      allow({"clone"}, {arg(clone_flags_arg, "SCMP_CMP_MASKED_EQ", kCloneNamespaceFlags, 0)}));

  // clone3(2) keeps its flags in a struct the filter cannot read: ENOSYS makes glibc and
  // musl fall back to clone(2), which the rule above checks.
  SeccompSyscall clone3;
  clone3.names = {"clone3"};
  clone3.action = "SCMP_ACT_ERRNO";
  clone3.errno_ret = ENOSYS;
  s.syscalls.push_back(clone3);
  return s;
}

}  // namespace gantry::runtime
