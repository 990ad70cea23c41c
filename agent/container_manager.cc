#include "agent/container_manager.h"

namespace gantry::agent {

Result<PullPolicy> parse_pull_policy(std::string_view text) {
  if (text == "if-not-present" || text == "missing") return PullPolicy::kIfNotPresent;
  if (text == "always") return PullPolicy::kAlways;
  if (text == "never") return PullPolicy::kNever;
  return Error(ErrorCode::kInvalidArgument,
               "pull policy '" + std::string(text) +
                   "': want 'if-not-present' (or 'missing'), 'always' or 'never'");
}

}  // namespace gantry::agent
