#include "runtime/seccomp/profile.h"

#include <cerrno>
#include <optional>
#include <utility>

namespace gantry::runtime {
namespace {

constexpr uint32_t kMaxErrno = 4095;   // larger values are not errnos to the kernel
constexpr uint32_t kMaxTraceMsg = 0xffff;  // SECCOMP_RET_DATA

constexpr std::pair<std::string_view, SeccompActionKind> kActions[] = {
    {"SCMP_ACT_KILL", SeccompActionKind::kKillThread},  // libseccomp's and runc's alias
    {"SCMP_ACT_KILL_PROCESS", SeccompActionKind::kKillProcess},
    {"SCMP_ACT_KILL_THREAD", SeccompActionKind::kKillThread},
    {"SCMP_ACT_TRAP", SeccompActionKind::kTrap},
    {"SCMP_ACT_ERRNO", SeccompActionKind::kErrno},
    {"SCMP_ACT_TRACE", SeccompActionKind::kTrace},
    {"SCMP_ACT_ALLOW", SeccompActionKind::kAllow},
    {"SCMP_ACT_LOG", SeccompActionKind::kLog},
};

constexpr std::pair<std::string_view, SeccompOp> kOps[] = {
    {"SCMP_CMP_NE", SeccompOp::kNotEqual},     {"SCMP_CMP_LT", SeccompOp::kLess},
    {"SCMP_CMP_LE", SeccompOp::kLessEqual},    {"SCMP_CMP_EQ", SeccompOp::kEqual},
    {"SCMP_CMP_GE", SeccompOp::kGreaterEqual}, {"SCMP_CMP_GT", SeccompOp::kGreater},
    {"SCMP_CMP_MASKED_EQ", SeccompOp::kMaskedEqual},
};

Error invalid(std::string path, std::string_view what) {
  return Error(ErrorCode::kInvalidArgument, std::move(path) + ": " + std::string(what));
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

Result<SeccompAction> parse_action(const std::string& name, std::optional<uint32_t> errno_ret,
                                   const std::string& path, const std::string& errno_path) {
  SeccompAction action;
  bool known = false;
  for (const auto& [n, kind] : kActions) {
    if (n == name) {
      action.kind = kind;
      known = true;
    }
  }
  if (!known) {
    if (name == "SCMP_ACT_NOTIFY") {
      return Error(ErrorCode::kUnimplemented,
                   path + ": action 'SCMP_ACT_NOTIFY' is not supported (gantry has no seccomp "
                          "notify listener)");
    }
    if (name.empty()) return invalid(path, "missing action");
    return invalid(path, "unknown action " + quoted(name));
  }

  if (action.kind == SeccompActionKind::kErrno || action.kind == SeccompActionKind::kTrace) {
    // As runc: without errnoRet, ERRNO returns EPERM and TRACE passes EPERM as the message.
    action.value = errno_ret.value_or(EPERM);
    uint32_t limit = action.kind == SeccompActionKind::kErrno ? kMaxErrno : kMaxTraceMsg;
    if (action.value > limit) {
      return invalid(errno_path, std::to_string(action.value) + " is out of range 0.." +
                                     std::to_string(limit));
    }
  } else if (errno_ret) {
    return invalid(errno_path, "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not " +
                                   quoted(name));
  }
  return action;
}

Result<SeccompOp> parse_op(const std::string& name, const std::string& path) {
  for (const auto& [n, op] : kOps) {
    if (n == name) return op;
  }
  if (name.empty()) return invalid(path, "missing operator");
  return invalid(path, "unknown operator " + quoted(name));
}

bool plausible_syscall_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string_view> known_seccomp_actions() {
  std::vector<std::string_view> names;
  for (const auto& a : kActions) names.push_back(a.first);
  return names;
}

std::vector<std::string_view> known_seccomp_operators() {
  std::vector<std::string_view> names;
  for (const auto& o : kOps) names.push_back(o.first);
  return names;
}

const std::vector<std::string_view>& known_seccomp_architectures() {
  static const std::vector<std::string_view> kArchs = {
      "SCMP_ARCH_X86",      "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",       "SCMP_ARCH_ARM",
      "SCMP_ARCH_AARCH64",  "SCMP_ARCH_MIPS",      "SCMP_ARCH_MIPS64",    "SCMP_ARCH_MIPS64N32",
      "SCMP_ARCH_MIPSEL",   "SCMP_ARCH_MIPSEL64",  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
      "SCMP_ARCH_PPC64",    "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_S390",      "SCMP_ARCH_S390X",
      "SCMP_ARCH_PARISC",   "SCMP_ARCH_PARISC64",  "SCMP_ARCH_RISCV64",
  };
  return kArchs;
}

Result<SeccompProfile> validate_seccomp(const Seccomp& seccomp) {
  const std::string base = "linux.seccomp";
  SeccompProfile profile;
  GANTRY_ASSIGN_OR_RETURN(profile.default_action,
                          parse_action(seccomp.default_action, seccomp.default_errno_ret,
                                       base + ".defaultAction", base + ".defaultErrnoRet"));

  const auto& archs = known_seccomp_architectures();
  for (size_t i = 0; i < seccomp.architectures.size(); ++i) {
    const std::string& arch = seccomp.architectures[i];
    bool known = false;
    for (auto a : archs) known = known || a == arch;
    if (!known) {
      return invalid(base + ".architectures[" + std::to_string(i) + "]",
                     "unknown architecture " + quoted(arch));
    }
    profile.architectures.push_back(arch);
  }

  for (size_t i = 0; i < seccomp.flags.size(); ++i) {
    const std::string& flag = seccomp.flags[i];
    std::string path = base + ".flags[" + std::to_string(i) + "]";
    if (flag == "SECCOMP_FILTER_FLAG_TSYNC") {
      profile.flags |= kSeccompFlagTsync;
    } else if (flag == "SECCOMP_FILTER_FLAG_LOG") {
      profile.flags |= kSeccompFlagLog;
    } else if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") {
      profile.flags |= kSeccompFlagSpecAllow;
    } else if (flag == "SECCOMP_FILTER_FLAG_NEW_LISTENER" ||
               flag == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
      return Error(ErrorCode::kUnimplemented,
                   path + ": flag " + quoted(flag) +
                       " is not supported (gantry has no seccomp notify listener)");
    } else {
      return invalid(path, "unknown flag " + quoted(flag));
    }
  }

  for (size_t i = 0; i < seccomp.syscalls.size(); ++i) {
    const SeccompSyscall& sc = seccomp.syscalls[i];
    std::string path = base + ".syscalls[" + std::to_string(i) + "]";
    SeccompRule rule;
    rule.spec_index = i;
    if (sc.names.empty()) return invalid(path + ".names", "no syscall names");
    for (size_t j = 0; j < sc.names.size(); ++j) {
      if (!plausible_syscall_name(sc.names[j])) {
        return invalid(path + ".names[" + std::to_string(j) + "]",
                       sc.names[j].empty() ? std::string("empty syscall name")
                                           : "invalid syscall name " + quoted(sc.names[j]));
      }
      rule.names.push_back(sc.names[j]);
    }
    GANTRY_ASSIGN_OR_RETURN(rule.action, parse_action(sc.action, sc.errno_ret, path + ".action",
                                                      path + ".errnoRet"));
    for (size_t j = 0; j < sc.args.size(); ++j) {
      const SeccompArg& arg = sc.args[j];
      std::string arg_path = path + ".args[" + std::to_string(j) + "]";
      if (arg.index > 5) {
        return invalid(arg_path + ".index",
                       std::to_string(arg.index) + " is out of range 0..5 (syscalls take at "
                                                   "most 6 arguments)");
      }
      SeccompCondition cond;
      cond.index = arg.index;
      GANTRY_ASSIGN_OR_RETURN(cond.op, parse_op(arg.op, arg_path + ".op"));
      cond.value = arg.value;
      cond.value_two = arg.value_two;
      rule.conditions.push_back(cond);
    }
    profile.rules.push_back(std::move(rule));
  }
  return profile;
}

}  // namespace gantry::runtime
