// ChildProcess: a long-running program spawned with its stdio on fds the caller chooses, waited
// for with a deadline and a stop token, and signalled by pid (the agent's `gantry runtime run`
// processes). Spawned with posix_spawn (a vfork-style clone: no copy of the agent's page
// tables); PATH lookup through Boost.Process, which only common/ adapters include. The child
// gets an empty signal mask and default dispositions, and no fd of ours except its stdio.
// One ChildProcess per thread at a time; distinct ones are independent.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace gantry {

struct ChildStdio {
  int stdin_fd = -1;   // -1: /dev/null
  int stdout_fd = -1;  // -1: /dev/null
  int stderr_fd = -1;  // -1: /dev/null
};

struct ChildExit {
  int exit_code = -1;   // 0..255 for a normal exit; 128+N when killed by signal N
  int term_signal = 0;  // the signal that ended it, else 0
};

class ChildProcess {
 public:
  enum class WaitResult { kExited, kDeadline, kStopped };

  // Starts argv[0] (looked up in PATH when it has no slash). kNotFound / kIo name the program.
  static Result<ChildProcess> spawn(const std::vector<std::string>& argv, const ChildStdio& stdio);

  ChildProcess(ChildProcess&&) noexcept;
  ChildProcess& operator=(ChildProcess&&) noexcept;
  // Kills (SIGKILL) and reaps the child if it was never reaped.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Blocks until the child exits (without reaping it), `until` passes, or `stop` is requested.
  WaitResult wait(std::optional<std::chrono::steady_clock::time_point> until,
                  std::stop_token stop = {});
  // Reaps the child, blocking until it exits. Once only.
  ChildExit reap();
  // Sends `sig`; a child that has exited (not yet reaped) is not an error.
  Status signal(int sig);

 private:
  ChildProcess(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  bool reaped_ = false;
};

}  // namespace gantry
