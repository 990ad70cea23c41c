// OCI hooks: runs one hook list (prestart, createRuntime, poststart, poststop, ...) the way the
// runtime spec says — each hook's path with its args as argv and its env as the environment
// (the runtime's own when env is empty), the container's OCI state JSON on stdin, in order,
// stopping at the first failure. A hook past its timeout is SIGKILLed. Errors name the hook
// kind, its index and path, and how it ended, plus the last line it printed. Used by the
// `gantry runtime` commands in the runtime namespace and by the launcher. Thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "runtime/container_spec.h"

namespace gantry::runtime {

struct HookOutcome {
  int exit_code = -1;   // 0..255 when it exited
  int term_signal = 0;  // the signal that ended it, else 0
  bool timed_out = false;
  std::string output;   // stdout and stderr together, at most the last 64 KiB
};

// Runs one hook to completion. Errors only when it cannot be started; how it ended is a value.
Result<HookOutcome> run_hook(const Hook& hook, std::string_view state_json);

// What a failed hook means for the rest of its list. The spec: prestart, createRuntime,
// createContainer and startContainer failures stop the lifecycle; poststart and poststop
// failures are logged as warnings and the remaining hooks still run.
enum class OnHookFailure { kStop, kWarnAndContinue };

// Runs `hooks` in order, passing `state_json` to each. `kind` names the list in errors:
//   "poststart hook[1] '/usr/bin/x': exited with status 3: <last output line>".
// With kWarnAndContinue every hook runs, failures are logged, and the result is always ok.
Status run_hooks(std::string_view kind, const std::vector<Hook>& hooks,
                 std::string_view state_json, OnHookFailure on_failure = OnHookFailure::kStop);

}  // namespace gantry::runtime
