#include "runtime/rlimits.h"

#include <cerrno>
#include <string>

namespace gantry::runtime {
namespace {

struct NamedLimit {
  std::string_view name;
  int resource;
};

constexpr std::array<NamedLimit, kRlimitCount> kLimits = {{
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
}};
static_assert(RLIMIT_NLIMITS == kRlimitCount, "a new RLIMIT_* exists; add it to the table");

}  // namespace

std::optional<int> rlimit_from_name(std::string_view name) {
  for (const auto& l : kLimits) {
    if (l.name == name) return l.resource;
  }
  return std::nullopt;
}

std::string_view rlimit_name(int resource) {
  for (const auto& l : kLimits) {
    if (l.resource == resource) return l.name;
  }
  return {};
}

Result<RlimitSet> compile_rlimits(const std::vector<Rlimit>& rlimits) {
  RlimitSet set;
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const Rlimit& r = rlimits[i];
    std::string where = "process.rlimits[" + std::to_string(i) + "]";
    std::optional<int> resource = rlimit_from_name(r.type);
    if (!resource) {
      return Error(ErrorCode::kInvalidArgument,
                   where + ": unknown rlimit type '" + r.type + "'");
    }
    if (r.soft > r.hard) {
      return Error(ErrorCode::kInvalidArgument,
                   where + ": soft limit " + std::to_string(r.soft) +
                       " is above hard limit " + std::to_string(r.hard) + " for '" + r.type +
                       "'");
    }
    for (size_t j = 0; j < set.count; ++j) {
      if (set.entries[j].resource == *resource) {
        return Error(ErrorCode::kInvalidArgument,
                     where + ": duplicate rlimit type '" + r.type + "'");
      }
    }
    // The table has one slot per resource and duplicates are refused, so this always fits.
    GANTRY_CHECK(set.count < set.entries.size());
    set.entries[set.count++] = RlimitEntry{*resource, static_cast<rlim_t>(r.soft),
                                           static_cast<rlim_t>(r.hard)};
  }
  return set;
}

int apply_rlimits(const RlimitSet& limits, size_t* failed_entry) noexcept {
  for (size_t i = 0; i < limits.count; ++i) {
    const RlimitEntry& e = limits.entries[i];
    struct rlimit value {};
    value.rlim_cur = e.soft;
    value.rlim_max = e.hard;
    if (::prlimit(0, static_cast<__rlimit_resource>(e.resource), &value, nullptr) != 0) {
      if (failed_entry != nullptr) *failed_entry = i;
      return errno;
    }
  }
  return 0;
}

}  // namespace gantry::runtime
