#include "runtime/init.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/capabilities.h"
#include "runtime/console.h"
#include "runtime/init_hooks.h"
#include "runtime/reaper.h"
#include "runtime/rlimits.h"
#include "runtime/rootfs.h"
#include "runtime/seccomp/apply.h"
#include "runtime/security.h"

namespace gantry::runtime {

namespace {

int g_sync_fd = -1;

void send_message(SyncType type) {
  SyncMessage m;
  m.type = type;
  if (::send(g_sync_fd, &m, sizeof m, MSG_NOSIGNAL) < 0) ::_exit(1);
}

void expect_message(SyncType type) {
  SyncMessage m;
  ssize_t n;
  do {
    n = ::recv(g_sync_fd, &m, sizeof m, 0);
  } while (n < 0 && errno == EINTR);
  // EOF or garbage: the parent is gone or gave up on us; nobody to report to.
  if (n != static_cast<ssize_t>(sizeof m) || m.type != type) ::_exit(1);
}

// Waits until the parent has put us in our cgroup, then makes the cgroup namespace there.
void enter_cgroup(const LaunchPlan& plan) {
  expect_message(SyncType::kCgroupJoined);
  if (plan.unshare_cgroup_ns && ::unshare(CLONE_NEWCGROUP) != 0) {
    init_fail(InitStep::kUnshareCgroup, errno);
  }
}

// Steps 3-5 of runtime/security.h: bounding set, uid/gid switch keeping caps, then the sets.
void set_user(const InitArgs& a) {
  const CapabilitySet& caps = a.security->caps;
  int err = drop_bounding_set(caps);
  if (err != 0) init_fail(InitStep::kCapabilities, err);
  err = switch_user(a.uid, a.gid, a.additional_gids, a.additional_gid_count);
  if (err != 0) init_fail(InitStep::kSetuid, err);
  err = apply_process_capabilities(caps);
  if (err != 0) init_fail(InitStep::kCapabilities, err);
}

void load_seccomp(const InitArgs& a) {
  if (!a.security->seccomp) return;
  int err = apply_seccomp(*a.security->seccomp);
  if (err != 0) init_fail(InitStep::kSeccomp, err);
}

// Finds argv[0] in the container's PATH (when it has no '/') into `buf`, like execvp but
// before seccomp is in force and with an error that names what was looked for.
const char* find_executable(const InitArgs& a, char* buf, size_t size) {
  const char* name = a.argv[0];
  if (::strchr(name, '/') != nullptr) return name;
  size_t name_len = ::strlen(name);
  const char* p = a.path_env;
  int last_err = ENOENT;
  while (p != nullptr) {
    const char* end = ::strchr(p, ':');
    size_t dir_len = end ? static_cast<size_t>(end - p) : ::strlen(p);
    if (dir_len == 0) {
      dir_len = 1;  // an empty entry means the current directory
      p = ".";
    }
    if (dir_len + 1 + name_len + 1 <= size) {
      ::memcpy(buf, p, dir_len);
      buf[dir_len] = '/';
      ::memcpy(buf + dir_len + 1, name, name_len + 1);
      struct stat st;
      if (::stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
        if (::faccessat(AT_FDCWD, buf, X_OK, AT_EACCESS) == 0) return buf;
        last_err = EACCES;
      }
    }
    p = end ? end + 1 : nullptr;
  }
  init_fail(InitStep::kLookupExecutable, last_err, -1, name);
}

struct ExecTarget {
  const InitArgs* args;
  const char* path;
};

[[noreturn]] void exec_command(const void* arg) {
  const auto* t = static_cast<const ExecTarget*>(arg);
  if (t->args->security->no_new_privileges) load_seccomp(*t->args);
  ::execve(t->path, t->args->argv, t->args->envp);
  init_fail(InitStep::kExec, errno, -1, t->path);
}

// Everything between the container's filesystem and execve, shared by the container's init and
// by processes exec'd into a running container: fds, signals, rlimits, user, caps, umask, NNP.
// Returns the executable's path (in `exe_buf`).
const char* prepare_process(const InitArgs& a, char* exe_buf, size_t size) {
  // Nothing of the runtime's but what is named here survives execve.
  ::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }

  size_t index = 0;
  int err = apply_rlimits(a.security->rlimits, &index);
  if (err != 0) init_fail(InitStep::kRlimit, err, static_cast<int>(index));
  // Without no_new_privs the kernel loads a filter only with CAP_SYS_ADMIN, which the process
  // may be about to lose: load it now, as runc does (the default profile allows what follows).
  if (!a.security->no_new_privileges) load_seccomp(a);
  bool cwd_done = ::chdir(a.cwd) == 0;
  if (!cwd_done && errno != EACCES) init_fail(InitStep::kChdir, errno, -1, a.cwd);
  set_user(a);
  // Only the user may be able to enter its working directory (root squashing, 0700 homes).
  if (!cwd_done && ::chdir(a.cwd) != 0) init_fail(InitStep::kChdir, errno, -1, a.cwd);
  ::umask(a.umask);
  if (a.security->no_new_privileges) {
    err = set_no_new_privs();
    if (err != 0) init_fail(InitStep::kNoNewPrivs, err);
  }

  return find_executable(a, exe_buf, size);

}

}  // namespace

void init_fail(InitStep step, int err, int index, const char* path, int status) {
  SyncMessage m;
  m.type = SyncType::kError;
  m.step = step;
  m.err = err;
  m.index = index;
  m.status = status;
  if (path != nullptr) {
    size_t n = ::strlen(path);
    if (n >= sizeof m.path) n = sizeof m.path - 1;
    ::memcpy(m.path, path, n);
  }
  (void)::send(g_sync_fd, &m, sizeof m, MSG_NOSIGNAL);
  ::_exit(1);
}

void run_init(const InitArgs& a) {
  g_sync_fd = a.sync_fd;
  const LaunchPlan& plan = *a.plan;
  expect_message(SyncType::kGo);

  if (!plan.join_user_ns.empty()) {
    int fd = ::open(plan.join_user_ns.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWUSER) != 0) {
      init_fail(InitStep::kSetnsUser, errno, -1, plan.join_user_ns.c_str());
    }
    ::close(fd);
  }
  if (plan.new_user_ns || !plan.join_user_ns.empty()) {
    // Root inside, so what setup creates is owned by the container's root.
    if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) {
      init_fail(InitStep::kSetresuid, errno);
    }
  }
  if (!plan.hostname.empty() &&
      ::sethostname(plan.hostname.data(), plan.hostname.size()) != 0) {
    init_fail(InitStep::kSethostname, errno);
  }
  if (!plan.domainname.empty() &&
      ::setdomainname(plan.domainname.data(), plan.domainname.size()) != 0) {
    init_fail(InitStep::kSetdomainname, errno);
  }

  prepare_rootfs(plan, enter_cgroup);
  if (a.runtime_hooks) {
    // prestart and createRuntime run in the parent while the container's namespaces and
    // mounts exist and pivot_root has not happened yet.
    send_message(SyncType::kRunHooks);
    expect_message(SyncType::kHooksDone);
  }
  run_hooks_in_child(a.create_container_hooks, a.create_container_hook_count, a.hook_state_fd,
                     InitStep::kHookCreateContainer);
  pivot_into_rootfs(plan);

  if (::setsid() < 0) init_fail(InitStep::kSetsid, errno);
  if (a.terminal) {
    setup_console(a.console_fd, a.console_rows, a.console_cols);
  } else {
    for (int fd = 0; fd < 3; ++fd) {
      if (a.stdio[fd] != fd && ::dup2(a.stdio[fd], fd) < 0) init_fail(InitStep::kExec, errno);
    }
  }
  finalize_rootfs(plan);

  char exe_buf[PATH_MAX];
  ExecTarget target{&a, prepare_process(a, exe_buf, sizeof exe_buf)};

  char fifo_path[32];
  if (a.fifo_fd >= 0) {
    ::snprintf(fifo_path, sizeof fifo_path, "/proc/self/fd/%d", a.fifo_fd);
    // Check now what the blocking open below needs, while the parent still listens.
    struct stat st;
    if (::stat(fifo_path, &st) != 0) init_fail(InitStep::kOpenExecFifo, errno, -1, fifo_path);
  }
  send_message(SyncType::kReady);

  if (a.fifo_fd >= 0) {
    // Blocks until `start` opens the other end.
    int fd = ::open(fifo_path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) init_fail(InitStep::kOpenExecFifo, errno, -1, fifo_path);
    if (::write(fd, "0", 1) != 1) init_fail(InitStep::kOpenExecFifo, errno, -1, fifo_path);
    ::close(fd);
    ::close(a.fifo_fd);
  }
  run_hooks_in_child(a.start_container_hooks, a.start_container_hook_count, a.hook_state_fd,
                     InitStep::kHookStartContainer);
  if (a.hook_state_fd >= 0) ::close(a.hook_state_fd);
  if (a.init_reaper) run_reaper(a.sync_fd, exec_command, &target);
  exec_command(&target);
}

}  // namespace gantry::runtime

namespace gantry::runtime {

void run_exec_child(const InitArgs& a, const int* ns_fds, const int* ns_flags, size_t ns_count) {
  g_sync_fd = a.sync_fd;
  expect_message(SyncType::kGo);
  for (size_t i = 0; i < ns_count; ++i) {
    if (::setns(ns_fds[i], ns_flags[i]) != 0)
      init_fail(InitStep::kSetns, errno, static_cast<int>(i));
    ::close(ns_fds[i]);
  }
  if (a.terminal) {
    if (::setsid() < 0) init_fail(InitStep::kSetsid, errno);
    setup_console(a.console_fd, a.console_rows, a.console_cols);
  } else {
    for (int fd = 0; fd < 3; ++fd) {
      if (a.stdio[fd] != fd && ::dup2(a.stdio[fd], fd) < 0) init_fail(InitStep::kExec, errno);
    }
  }
  char exe_buf[PATH_MAX];
  ExecTarget target{&a, prepare_process(a, exe_buf, sizeof exe_buf)};
  send_message(SyncType::kReady);
  exec_command(&target);
}

}  // namespace gantry::runtime
