// run_in_child: runs a function in a forked child and brings back what it reported, so a test
// can change process-wide state (seccomp, capabilities, rlimits, uids) without touching the
// test runner. The child reports int64 values through a pipe with raw write(2) (allowed by any
// sane seccomp filter) and never returns into the test framework. Header-only; the caller
// must be single-threaded at the fork.
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <vector>

namespace gantry::testing {

// The child's side: report(v) appends v to what the parent receives.
class ChildReport {
 public:
  explicit ChildReport(int fd) : fd_(fd) {}
  void report(int64_t value) const {
    const char* p = reinterpret_cast<const char*>(&value);
    size_t left = sizeof(value);
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ::_exit(120);
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  // errno of a syscall's result: 0 on success (rc >= 0), else errno.
  void report_errno(long rc) const { report(rc < 0 ? errno : 0); }

 private:
  int fd_;
};

struct ChildOutcome {
  int wait_status = -1;          // as waitpid gives it
  std::vector<int64_t> values;   // what the child reported, in order
  bool exited_ok() const { return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0; }
};

// Forks; the child runs fn(const ChildReport&) then _exit(0). The parent reads every value,
// reaps the child and returns.
template <typename Fn>
ChildOutcome run_in_child(Fn fn) {
  ChildOutcome outcome;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return outcome;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return outcome;
  }
  if (pid == 0) {
    ::close(fds[0]);
    fn(ChildReport(fds[1]));
    ::_exit(0);
  }
  ::close(fds[1]);
  int64_t value;
  size_t have = 0;
  char* buf = reinterpret_cast<char*>(&value);
  for (;;) {
    ssize_t n = ::read(fds[0], buf + have, sizeof(value) - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += static_cast<size_t>(n);
    if (have == sizeof(value)) {
      outcome.values.push_back(value);
      have = 0;
    }
  }
  ::close(fds[0]);
  while (::waitpid(pid, &outcome.wait_status, 0) < 0 && errno == EINTR) {
  }
  return outcome;
}

}  // namespace gantry::testing
