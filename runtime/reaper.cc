#include "runtime/reaper.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/init.h"
#include "runtime/sync.h"

namespace gantry::runtime {

namespace {

// Forwards signals to `child` and reaps until it ends; exits with its status. Every signal is
// blocked (by the caller, before the fork).
[[noreturn]] void reap_until_exit(pid_t child, const sigset_t& all) {
  for (;;) {
    siginfo_t info;
    int sig = ::sigwaitinfo(&all, &info);
    if (sig < 0) continue;  // EINTR
    if (sig != SIGCHLD) {
      ::kill(child, sig);
      continue;
    }
    int status = 0;
    pid_t p;
    while ((p = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (p != child) continue;
      if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
      if (WIFSIGNALED(status)) ::_exit(128 + WTERMSIG(status));
    }
  }
}

void write_stderr(const char* a, const char* b = "", const char* c = "", const char* d = "") {
  for (const char* s : {a, b, c, d}) {
    size_t n = ::strlen(s);
    while (n > 0) {
      ssize_t w = ::write(STDERR_FILENO, s, n);
      if (w <= 0 && errno != EINTR) return;
      if (w > 0) {
        s += w;
        n -= static_cast<size_t>(w);
      }
    }
  }
}

// Blocks every signal (into `all`), so none is lost between the fork and the wait loop, and
// forks; the child gets the caller's mask back. fork()'s result.
pid_t fork_with_signals_blocked(sigset_t& all) {
  sigset_t old;
  ::sigfillset(&all);
  ::sigprocmask(SIG_BLOCK, &all, &old);
  pid_t child = ::fork();
  if (child == 0) ::sigprocmask(SIG_SETMASK, &old, nullptr);
  return child;
}

}  // namespace

void run_reaper(int sync_fd, void (*exec_command)(const void*), const void* arg) {
  sigset_t all;
  pid_t child = fork_with_signals_blocked(all);
  if (child < 0) init_fail(InitStep::kFork, errno);
  if (child == 0) {
    exec_command(arg);
    ::_exit(127);
  }
  // The command keeps its copy (close-on-exec) to report a failed exec; ours goes now so the
  // parent sees EOF once the command has exec'd.
  ::close(sync_fd);
  reap_until_exit(child, all);
}

void run_init_command(int argc, char** argv) {
  int first = 1;
  if (first < argc && ::strcmp(argv[first], "--") == 0) ++first;
  if (first >= argc) {
    write_stderr("gantry-init: usage: gantry-init [--] COMMAND [ARG...]\n");
    ::_exit(125);
  }
  // Not pid 1 (a runtime without a pid namespace): orphans of the command still come here.
  if (::getpid() != 1) ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  sigset_t all;
  pid_t child = fork_with_signals_blocked(all);
  if (child < 0) {
    write_stderr("gantry-init: fork: ", ::strerror(errno), "\n");
    ::_exit(125);
  }
  if (child == 0) {
    ::execvp(argv[first], argv + first);
    int err = errno;
    write_stderr("gantry-init: exec '", argv[first], "': ", ::strerror(err));
    write_stderr("\n");
    ::_exit(err == ENOENT ? 127 : 126);
  }
  reap_until_exit(child, all);
}

}  // namespace gantry::runtime
