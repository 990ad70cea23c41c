#include "runtime/reaper.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/init.h"
#include "runtime/sync.h"

namespace gantry::runtime {

void run_reaper(int sync_fd, void (*exec_command)(const void*), const void* arg) {
  sigset_t all, old;
  ::sigfillset(&all);
  // Blocked before fork, so no signal is lost between fork and the wait loop.
  ::sigprocmask(SIG_BLOCK, &all, &old);
  pid_t child = ::fork();
  if (child < 0) init_fail(InitStep::kFork, errno);
  if (child == 0) {
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    exec_command(arg);
    ::_exit(127);
  }
  // The command keeps its copy (close-on-exec) to report a failed exec; ours goes now so the
  // parent sees EOF once the command has exec'd.
  ::close(sync_fd);
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

}  // namespace gantry::runtime
