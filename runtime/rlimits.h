// Resource limits (process.rlimits) for the container process: RLIMIT_* names <-> numbers,
// validation in the parent into a fixed array, and applying that array in the child after
// clone (no allocation, no exceptions, no logging; returns 0 or an errno). Plain data,
// thread-compatible. The order of the child's steps is in runtime/security.h.
#pragma once

#include <sys/resource.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "runtime/container_spec.h"

namespace gantry::runtime {

// Number of distinct RLIMIT_* resources Gantry knows (RLIMIT_CPU .. RLIMIT_RTTIME).
inline constexpr size_t kRlimitCount = 16;

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE. Exact upper-case names, as config.json has them.
std::optional<int> rlimit_from_name(std::string_view name);

// RLIMIT_NOFILE -> "RLIMIT_NOFILE"; empty for an unknown number.
std::string_view rlimit_name(int resource);

struct RlimitEntry {
  int resource = 0;
  rlim_t soft = 0;
  rlim_t hard = 0;
};

// Validated limits in spec order; at most one entry per resource.
struct RlimitSet {
  std::array<RlimitEntry, kRlimitCount> entries{};
  size_t count = 0;
};

// Validates process.rlimits: known type, soft <= hard, each type once. Errors name the entry:
// "process.rlimits[2]: soft limit 4096 is above hard limit 1024 for 'RLIMIT_NOFILE'".
Result<RlimitSet> compile_rlimits(const std::vector<Rlimit>& rlimits);

// Child side: sets every limit with prlimit on the calling process. Returns 0 or the errno of
// the first failure; `failed_entry`, when not null, then holds its index (for the parent's
// message). Raising a hard limit needs CAP_SYS_RESOURCE: apply before dropping capabilities.
int apply_rlimits(const RlimitSet& limits, size_t* failed_entry = nullptr) noexcept;

}  // namespace gantry::runtime
