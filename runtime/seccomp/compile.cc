#include "runtime/seccomp/compile.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "common/unique_fd.h"

namespace gantry::runtime {
namespace {

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

// libseccomp returns -errno.
Error seccomp_error(std::string_view what, int rc) { return sys_error(what, -rc); }

uint32_t to_scmp_action(const SeccompAction& action) {
  switch (action.kind) {
    case SeccompActionKind::kKillThread: return SCMP_ACT_KILL_THREAD;
    case SeccompActionKind::kKillProcess: return SCMP_ACT_KILL_PROCESS;
    case SeccompActionKind::kTrap: return SCMP_ACT_TRAP;
    case SeccompActionKind::kErrno: return SCMP_ACT_ERRNO(action.value);
    case SeccompActionKind::kTrace: return SCMP_ACT_TRACE(action.value);
    case SeccompActionKind::kAllow: return SCMP_ACT_ALLOW;
    case SeccompActionKind::kLog: return SCMP_ACT_LOG;
  }
  GANTRY_CHECK(false);
  return SCMP_ACT_KILL_PROCESS;
}

scmp_compare to_scmp_op(SeccompOp op) {
  switch (op) {
    case SeccompOp::kNotEqual: return SCMP_CMP_NE;
    case SeccompOp::kLess: return SCMP_CMP_LT;
    case SeccompOp::kLessEqual: return SCMP_CMP_LE;
    case SeccompOp::kEqual: return SCMP_CMP_EQ;
    case SeccompOp::kGreaterEqual: return SCMP_CMP_GE;
    case SeccompOp::kGreater: return SCMP_CMP_GT;
    case SeccompOp::kMaskedEqual: return SCMP_CMP_MASKED_EQ;
  }
  GANTRY_CHECK(false);
  return SCMP_CMP_EQ;
}

std::optional<uint32_t> arch_token(std::string_view name) {
  static const std::pair<std::string_view, uint32_t> kArchs[] = {
      {"SCMP_ARCH_X86", SCMP_ARCH_X86},
      {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
      {"SCMP_ARCH_X32", SCMP_ARCH_X32},
      {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
      {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
      {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
      {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
      {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
      {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
      {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
      {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
      {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
      {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
      {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
      {"SCMP_ARCH_S390", SCMP_ARCH_S390},
      {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
      {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
      {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
      {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
  };
  for (const auto& [n, token] : kArchs) {
    if (n == name) return token;
  }
  return std::nullopt;
}

// Adds one rule for one syscall. As runc does: when two conditions test the same argument,
// libseccomp cannot AND them in one rule, so each condition becomes a rule of its own (OR);
// otherwise all conditions go in one rule (AND).
int add_rule(void* ctx, uint32_t action, int nr, const std::vector<SeccompCondition>& conds) {
  std::vector<scmp_arg_cmp> cmps;
  cmps.reserve(conds.size());
  unsigned per_arg[6] = {};
  bool repeated = false;
  for (const auto& c : conds) {
    cmps.push_back(scmp_arg_cmp{c.index, to_scmp_op(c.op), c.value, c.value_two});
    repeated = repeated || ++per_arg[c.index] > 1;
  }
  if (!repeated) {
    return seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(cmps.size()),
                                  cmps.empty() ? nullptr : cmps.data());
  }
  for (const auto& cmp : cmps) {
    if (int rc = seccomp_rule_add_array(ctx, action, nr, 1, &cmp); rc < 0) return rc;
  }
  return 0;
}

Result<std::vector<sock_filter>> export_program(void* ctx) {
  UniqueFd fd(::memfd_create("gantry-seccomp", MFD_CLOEXEC));
  if (!fd) return sys_error("create memfd for the seccomp program");
  if (int rc = seccomp_export_bpf(ctx, fd.get()); rc < 0) {
    return seccomp_error("export seccomp program", rc);
  }
  off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size < 0) return sys_error("seek seccomp program memfd");
  if (size == 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
    return Error(ErrorCode::kInternal, "export seccomp program: odd program size " +
                                           std::to_string(size) + " bytes");
  }
  std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
  auto* out = reinterpret_cast<char*>(program.data());
  size_t done = 0;
  while (done < static_cast<size_t>(size)) {
    ssize_t n = ::pread(fd.get(), out + done, static_cast<size_t>(size) - done,
                        static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read seccomp program memfd");
    if (n == 0) return Error(ErrorCode::kInternal, "read seccomp program memfd: short read");
    done += static_cast<size_t>(n);
  }
  // BPF_MAXINSNS: the kernel refuses longer programs with EINVAL; say why here instead.
  if (program.size() > BPF_MAXINSNS) {
    return Error(ErrorCode::kInvalidArgument,
                 "linux.seccomp: the compiled filter has " + std::to_string(program.size()) +
                     " instructions, more than the kernel's limit of " +
                     std::to_string(BPF_MAXINSNS));
  }
  return program;
}

}  // namespace

Result<CompiledSeccomp> compile_seccomp(const SeccompProfile& profile) {
  const uint32_t default_action = to_scmp_action(profile.default_action);
  Context ctx(seccomp_init(default_action));
  if (!ctx) return Error(ErrorCode::kInvalidArgument, "linux.seccomp: libseccomp refused the "
                                                      "default action");
  // Gantry sets no_new_privs itself, in its place in the child's order (security.h).
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc < 0) {
    return seccomp_error("linux.seccomp: clear no_new_privs attribute", rc);
  }
  // A binary tree over syscall numbers instead of one long chain: the default profile's ~400
  // rules otherwise cost every syscall a linear walk. Best effort: older libseccomp lacks it.
  (void)seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);

  CompiledSeccomp compiled;
  for (size_t i = 0; i < profile.architectures.size(); ++i) {
    std::optional<uint32_t> token = arch_token(profile.architectures[i]);
    std::string path = "linux.seccomp.architectures[" + std::to_string(i) + "]";
    if (!token) {
      return Error(ErrorCode::kInvalidArgument,
                   path + ": unknown architecture '" + profile.architectures[i] + "'");
    }
    int rc = seccomp_arch_add(ctx.get(), *token);
    if (rc == -EEXIST) continue;  // the native one, or listed twice
    // One filter cannot mix byte orders, and a host runs programs of its own byte order only
    // (an s390x or ppc64 binary cannot run on x86_64): leaving such an architecture out
    // changes nothing the filter could ever see.
    if (rc == -EDOM) {
      compiled.skipped_architectures.push_back(profile.architectures[i]);
      continue;
    }
    if (rc < 0) {
      return seccomp_error(path + ": add architecture '" + profile.architectures[i] + "'", rc);
    }
  }

  compiled.flags = profile.flags;
  for (const SeccompRule& rule : profile.rules) {
    const uint32_t action = to_scmp_action(rule.action);
    // libseccomp refuses a rule whose action is the default one; it would change nothing.
    if (action == default_action) continue;
    for (size_t j = 0; j < rule.names.size(); ++j) {
      const std::string& name = rule.names[j];
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        bool seen = false;
        for (const auto& s : compiled.skipped_syscalls) seen = seen || s == name;
        if (!seen) compiled.skipped_syscalls.push_back(name);
        continue;
      }
      int rc = add_rule(ctx.get(), action, nr, rule.conditions);
      if (rc == -EEXIST) {
        return Error(ErrorCode::kInvalidArgument,
                     "linux.seccomp.syscalls[" + std::to_string(rule.spec_index) + "].names[" +
                         std::to_string(j) + "]: '" + name +
                         "' already has a rule with the same conditions and another action");
      }
      if (rc < 0) {
        return seccomp_error("linux.seccomp.syscalls[" + std::to_string(rule.spec_index) +
                                 "].names[" + std::to_string(j) + "]: add rule for '" + name +
                                 "'",
                             rc);
      }
    }
  }

  GANTRY_ASSIGN_OR_RETURN(compiled.program, export_program(ctx.get()));
  return compiled;
}

Result<CompiledSeccomp> compile_seccomp(const Seccomp& seccomp) {
  GANTRY_ASSIGN_OR_RETURN(SeccompProfile profile, validate_seccomp(seccomp));
  return compile_seccomp(profile);
}

std::string libseccomp_version() {
  const scmp_version* v = seccomp_version();
  if (v == nullptr) return "unknown";
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->micro);
}

std::string seccomp_environment() {
  return "arch=" + std::to_string(seccomp_arch_native()) + " libseccomp=" + libseccomp_version() +
         " api=" + std::to_string(seccomp_api_get());
}

}  // namespace gantry::runtime
