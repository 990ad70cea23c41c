#include "runtime/init_hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/init.h"

namespace gantry::runtime {

std::vector<HookImage> make_hook_images(const std::vector<Hook>& hooks) {
  std::vector<HookImage> out;
  out.reserve(hooks.size());
  for (const auto& h : hooks) {
    HookImage img;
    img.path = h.path.c_str();
    if (h.args.empty()) {
      img.argv.push_back(const_cast<char*>(h.path.c_str()));
    } else {
      for (const auto& a : h.args) img.argv.push_back(const_cast<char*>(a.c_str()));
    }
    img.argv.push_back(nullptr);
    if (!h.env.empty()) {
      for (const auto& e : h.env) img.envp.push_back(const_cast<char*>(e.c_str()));
      img.envp.push_back(nullptr);
    }
    img.timeout_ms = h.timeout ? *h.timeout * 1000 : -1;
    out.push_back(std::move(img));
  }
  return out;
}

void run_hooks_in_child(const HookImage* hooks, size_t count, int state_fd, InitStep step) {
  for (size_t i = 0; i < count; ++i) {
    const HookImage& h = hooks[i];
    int index = static_cast<int>(i);
    if (::lseek(state_fd, 0, SEEK_SET) != 0) init_fail(step, errno, index, h.path);
    int exec_pipe[2];  // closed by a successful exec; carries errno otherwise
    if (::pipe2(exec_pipe, O_CLOEXEC) != 0) init_fail(step, errno, index, h.path);
    pid_t pid = ::fork();
    if (pid < 0) init_fail(step, errno, index, h.path);
    if (pid == 0) {
      ::dup2(state_fd, 0);
      char** env = h.envp.empty() ? environ : const_cast<char**>(h.envp.data());
      ::execve(h.path, h.argv.data(), env);
      int err = errno;
      (void)!::write(exec_pipe[1], &err, sizeof err);
      ::_exit(127);
    }
    ::close(exec_pipe[1]);
    int exec_errno = 0;
    bool exec_failed = ::read(exec_pipe[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno;
    ::close(exec_pipe[0]);
    int status = 0;
    if (exec_failed) {
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      init_fail(step, exec_errno, index, h.path);
    }
    if (h.timeout_ms >= 0) {
      int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
      if (pidfd < 0) init_fail(step, errno, index, h.path);
      struct pollfd p = {pidfd, POLLIN, 0};
      int n;
      do {
        n = ::poll(&p, 1, h.timeout_ms);
      } while (n < 0 && errno == EINTR);
      ::close(pidfd);
      if (n == 0) {
        ::kill(pid, SIGKILL);
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        init_fail(step, ETIMEDOUT, index, h.path);
      }
    }
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) init_fail(step, errno, index, h.path);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
    init_fail(step, 0, index, h.path, WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
  }
}

}  // namespace gantry::runtime
