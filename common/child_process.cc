#include "common/child_process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/process/search_path.hpp>
#include <cerrno>
#include <cstring>
#include <utility>

namespace gantry {

namespace bp = boost::process;

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv,
                                         const ChildStdio& stdio) {
  if (argv.empty()) return Error(ErrorCode::kInvalidArgument, "spawn: empty command line");
  std::string exe = argv[0];
  if (exe.find('/') == std::string::npos) {
    auto found = bp::search_path(exe);
    if (found.empty()) {
      return Error(ErrorCode::kNotFound, "spawn '" + exe + "': not found in PATH");
    }
    exe = found.string();
  }
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) return sys_error("open '/dev/null'");
  // The child's stdio, first copied above 2 so that putting one on 0..2 cannot clobber a source
  // still needed; dup2 in the child clears close-on-exec on the copies it makes.
  std::array<UniqueFd, 3> sources;
  const int wanted[3] = {stdio.stdin_fd, stdio.stdout_fd, stdio.stderr_fd};
  for (int i = 0; i < 3; ++i) {
    sources[i].reset(::fcntl(wanted[i] >= 0 ? wanted[i] : devnull.get(), F_DUPFD_CLOEXEC, 3));
    if (!sources[i]) return sys_error("spawn '" + exe + "': dup stdio");
  }
  // posix_spawn, not a fork: glibc's clone(CLONE_VM | CLONE_VFORK) borrows this process's
  // memory until the exec instead of copying its page tables, which for a big multi-threaded
  // agent took 2 ms a container. Exec failures come back as its result.
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attr);
  for (int i = 0; i < 3; ++i) ::posix_spawn_file_actions_adddup2(&actions, sources[i].get(), i);
  ::posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setsigdefault(&attr, &all);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, exe.c_str(), &actions, &attr, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Error(error_code_from_errno(rc), "spawn '" + exe + "': " + std::strerror(rc), rc);
  }
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    auto err = sys_error("pidfd_open " + std::to_string(pid));
    ::kill(pid, SIGKILL);
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return err.with_context("spawn '" + exe + "'");
  }
  return ChildProcess(pid, std::move(pidfd));
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      reaped_(std::exchange(other.reaped_, true)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    this->~ChildProcess();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
    reaped_ = std::exchange(other.reaped_, true);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    (void)reap();
  }
}

ChildProcess::WaitResult ChildProcess::wait(
    std::optional<std::chrono::steady_clock::time_point> until, std::stop_token stop) {
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  std::stop_callback on_stop(stop, [&wake] {
    uint64_t one = 1;
    (void)!::write(wake.get(), &one, sizeof one);
  });
  for (;;) {
    if (stop.stop_requested()) return WaitResult::kStopped;
    int timeout_ms = -1;
    if (until) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(
          *until - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        // One last non-blocking look: an exit that raced the deadline wins.
        pollfd p{pidfd_.get(), POLLIN, 0};
        if (::poll(&p, 1, 0) == 1) return WaitResult::kExited;
        return WaitResult::kDeadline;
      }
      timeout_ms = static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
    }
    pollfd fds[2] = {{pidfd_.get(), POLLIN, 0}, {wake.get(), POLLIN, 0}};
    int n = ::poll(fds, wake ? 2 : 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n > 0 && fds[0].revents != 0) return WaitResult::kExited;
  }
}

ChildExit ChildProcess::reap() {
  ChildExit out;
  if (reaped_ || pid_ <= 0) return out;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    out.term_signal = WTERMSIG(status);
    out.exit_code = 128 + out.term_signal;
  }
  return out;
}

Status ChildProcess::signal(int sig) {
  if (reaped_ || pid_ <= 0) return ok_status();
  if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) != 0 && errno != ESRCH) {
    return sys_error("signal process " + std::to_string(pid_));
  }
  return ok_status();
}

}  // namespace gantry
