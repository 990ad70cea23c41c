// Running other programs (git, `gantry runtime`, hooks, peers in benchmarks) through
// Boost.Process, which only this adapter includes. Never used for container setup: that is
// clone() in the single-threaded `gantry runtime` process. Thread-safe (no shared state).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace gantry {

struct SubprocessOptions {
  std::optional<std::string> cwd;
  // When set, the child's whole environment; otherwise the parent's is inherited.
  std::optional<std::map<std::string, std::string>> env;
  std::string stdin_data;           // written to the child's stdin, then closed
  bool merge_stderr = false;        // stderr into the stdout capture (one ordered stream)
  std::optional<std::chrono::milliseconds> timeout;  // the child is killed (SIGKILL) when hit
};

struct SubprocessResult {
  int exit_code = -1;   // 0..255 for a normal exit
  int term_signal = 0;  // the signal that ended it, else 0
  std::string out;
  std::string err;
  bool timed_out = false;
};

// Runs argv[0] (looked up in PATH when it has no slash) to completion, capturing its output.
// Errors only when the program cannot be started; a non-zero exit is a value.
Result<SubprocessResult> run_subprocess(const std::vector<std::string>& argv,
                                        const SubprocessOptions& options = {});

}  // namespace gantry
