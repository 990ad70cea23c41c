#include "runtime/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/logging.h"
#include "common/unique_fd.h"

extern char** environ;

namespace gantry::runtime {

namespace {

constexpr size_t kMaxOutput = 64 * 1024;

int64_t now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  size_t start = text.rfind('\n', end);
  start = (start == std::string::npos) ? 0 : start + 1;
  return text.substr(start, end - start + 1);
}

}  // namespace

Result<HookOutcome> run_hook(const Hook& hook, std::string_view state_json) {
  // argv and envp are built before fork: the child only calls async-signal-safe functions.
  std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path}
                                                    : hook.args;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = hook.env;
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  char** child_env = hook.env.empty() ? environ : envp.data();

  // stdin is a socket so writing to a hook that never reads cannot raise SIGPIPE here.
  int in_pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) {
    return sys_error("socketpair for hook stdin");
  }
  UniqueFd in_parent(in_pair[0]), in_child(in_pair[1]);
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return sys_error("pipe for hook output");
  UniqueFd out_parent(out_pipe[0]), out_child(out_pipe[1]);
  int exec_pipe[2];  // closed by exec; carries errno when exec fails
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) return sys_error("pipe for hook exec status");
  UniqueFd exec_r(exec_pipe[0]), exec_w(exec_pipe[1]);

  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork hook '" + hook.path + "'");
  if (pid == 0) {
    ::dup2(in_child.get(), 0);
    ::dup2(out_child.get(), 1);
    ::dup2(out_child.get(), 2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(hook.path.c_str(), argv.data(), child_env);
    int err = errno;
    (void)!::write(exec_w.get(), &err, sizeof err);
    ::_exit(127);
  }
  in_child.reset();
  out_child.reset();
  exec_w.reset();

  HookOutcome outcome;
  int exec_errno = 0;
  if (::read(exec_r.get(), &exec_errno, sizeof exec_errno) == sizeof exec_errno) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return sys_error("exec hook '" + hook.path + "'", exec_errno);
  }

  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    int err = errno;
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return sys_error("pidfd_open for hook '" + hook.path + "'", err);
  }
  ::fcntl(in_parent.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(out_parent.get(), F_SETFL, O_NONBLOCK);

  const int64_t deadline = hook.timeout ? now_ms() + int64_t{*hook.timeout} * 1000 : -1;
  size_t written = 0;
  bool exited = false;
  char buf[4096];
  while (!exited) {
    struct pollfd fds[3];
    int n = 0;
    fds[n++] = {pidfd.get(), POLLIN, 0};
    int out_index = -1, in_index = -1;
    if (out_parent) {
      out_index = n;
      fds[n++] = {out_parent.get(), POLLIN, 0};
    }
    if (in_parent) {
      in_index = n;
      fds[n++] = {in_parent.get(), POLLOUT, 0};
    }
    int wait = -1;
    if (deadline >= 0) wait = static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
    int r = ::poll(fds, n, wait);
    if (r < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      return sys_error("poll hook '" + hook.path + "'", err);
    }
    if (r == 0 && deadline >= 0 && now_ms() >= deadline) {
      ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
      outcome.timed_out = true;
      break;
    }
    if (in_index >= 0 && fds[in_index].revents != 0) {
      if (written < state_json.size()) {
        ssize_t w = ::send(in_parent.get(), state_json.data() + written,
                           state_json.size() - written, MSG_NOSIGNAL);
        if (w > 0) written += static_cast<size_t>(w);
        else if (errno != EAGAIN && errno != EINTR) written = state_json.size();  // hook closed
      }
      if (written >= state_json.size()) in_parent.reset();
    }
    if (out_index >= 0 && fds[out_index].revents != 0) {
      ssize_t got = ::read(out_parent.get(), buf, sizeof buf);
      if (got > 0) {
        outcome.output.append(buf, static_cast<size_t>(got));
        if (outcome.output.size() > kMaxOutput) {
          outcome.output.erase(0, outcome.output.size() - kMaxOutput);
        }
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        out_parent.reset();
      }
    }
    if (fds[0].revents != 0) exited = true;
  }
  // Whatever the hook wrote before exiting; a grandchild holding the pipe open is not waited for.
  while (out_parent) {
    ssize_t got = ::read(out_parent.get(), buf, sizeof buf);
    if (got <= 0) break;
    outcome.output.append(buf, static_cast<size_t>(got));
  }
  if (outcome.output.size() > kMaxOutput) {
    outcome.output.erase(0, outcome.output.size() - kMaxOutput);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return sys_error("waitpid hook '" + hook.path + "'");
  }
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) outcome.term_signal = WTERMSIG(status);
  return outcome;
}

Status run_hooks(std::string_view kind, const std::vector<Hook>& hooks,
                 std::string_view state_json, OnHookFailure on_failure) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    const Hook& hook = hooks[i];
    std::string name = std::string(kind) + " hook[" + std::to_string(i) + "] '" + hook.path + "'";
    auto outcome = run_hook(hook, state_json);
    if (!outcome.ok()) {
      Error err = std::move(outcome).error().with_context(name);
      if (on_failure == OnHookFailure::kStop) return err;
      logger("runtime")->warn("hook failed kind={} index={} error=\"{}\"", kind, i, err.message());
      continue;
    }
    std::string why;
    if (outcome->timed_out) {
      why = "timed out after " + std::to_string(*hook.timeout) + "s and was killed";
    } else if (outcome->term_signal != 0) {
      why = "killed by signal " + std::to_string(outcome->term_signal) + " (" +
            strsignal(outcome->term_signal) + ")";
    } else if (outcome->exit_code != 0) {
      why = "exited with status " + std::to_string(outcome->exit_code);
    } else {
      logger("runtime")->debug("hook ran kind={} index={} path={}", kind, i, hook.path);
      continue;
    }
    std::string line = last_line(outcome->output);
    if (!line.empty()) why += ": " + line;
    Error err(outcome->timed_out ? ErrorCode::kDeadlineExceeded : ErrorCode::kFailedPrecondition,
              name + ": " + why);
    if (on_failure == OnHookFailure::kStop) return err;
    logger("runtime")->warn("hook failed kind={} index={} error=\"{}\"", kind, i, err.message());
  }
  return ok_status();
}

}  // namespace gantry::runtime
