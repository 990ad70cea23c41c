// SeccompProfile: linux.seccomp of a ContainerSpec, validated into typed values (actions,
// operators, architectures, flags) so that compiling it cannot meet a malformed field.
// Pure: no OS calls, no libseccomp (syscall names are resolved by seccomp/compile.h).
// Used by the launcher (through compile) and by `gantry runtime` to check a config.json.
// Errors name the field path: "linux.seccomp.syscalls[3].args[0].op: unknown operator 'X'".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "runtime/container_spec.h"

namespace gantry::runtime {

enum class SeccompActionKind { kKillThread, kKillProcess, kTrap, kErrno, kTrace, kAllow, kLog };

struct SeccompAction {
  SeccompActionKind kind = SeccompActionKind::kAllow;
  uint32_t value = 0;  // the errno for kErrno, the tracer's message for kTrace

  bool operator==(const SeccompAction&) const = default;
};

enum class SeccompOp {
  kNotEqual,
  kLess,
  kLessEqual,
  kEqual,
  kGreaterEqual,
  kGreater,
  kMaskedEqual
};

struct SeccompCondition {
  uint32_t index = 0;  // syscall argument 0..5
  SeccompOp op = SeccompOp::kEqual;
  uint64_t value = 0;
  uint64_t value_two = 0;  // kMaskedEqual: (arg & value) == value_two
};

struct SeccompRule {
  std::vector<std::string> names;  // syscall names as given, not yet resolved
  SeccompAction action;
  std::vector<SeccompCondition> conditions;
  size_t spec_index = 0;  // index into linux.seccomp.syscalls, for error messages
};

// seccomp(2) filter flags accepted in linux.seccomp.flags.
inline constexpr uint32_t kSeccompFlagTsync = 1u << 0;      // SECCOMP_FILTER_FLAG_TSYNC
inline constexpr uint32_t kSeccompFlagLog = 1u << 1;        // SECCOMP_FILTER_FLAG_LOG
inline constexpr uint32_t kSeccompFlagSpecAllow = 1u << 2;  // SECCOMP_FILTER_FLAG_SPEC_ALLOW

struct SeccompProfile {
  SeccompAction default_action;
  std::vector<std::string> architectures;  // "SCMP_ARCH_X86_64", validated names
  uint32_t flags = 0;                      // kSeccompFlag* bits, as seccomp(2) takes them
  std::vector<SeccompRule> rules;
};

// Validates linux.seccomp. Unsupported but well-formed input (SCMP_ACT_NOTIFY, listener
// flags) is kUnimplemented; anything malformed is kInvalidArgument. Both name the field.
Result<SeccompProfile> validate_seccomp(const Seccomp& seccomp);

// The names Gantry accepts, for `gantry runtime features`, docs and tests.
std::vector<std::string_view> known_seccomp_actions();    // "SCMP_ACT_ALLOW", ... (no NOTIFY)
std::vector<std::string_view> known_seccomp_operators();  // "SCMP_CMP_EQ", ...
const std::vector<std::string_view>& known_seccomp_architectures();  // "SCMP_ARCH_X86_64", ...

}  // namespace gantry::runtime
