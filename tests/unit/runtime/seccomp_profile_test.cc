#include "runtime/seccomp/profile.h"

#include <linux/filter.h>

#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/seccomp/compile.h"
#include "runtime/seccomp/default_profile.h"

namespace gantry::runtime {
namespace {

SeccompSyscall rule(std::vector<std::string> names, std::string action,
                    std::vector<SeccompArg> args = {}) {
  SeccompSyscall s;
  s.names = std::move(names);
  s.action = std::move(action);
  s.args = std::move(args);
  return s;
}

Seccomp allow_all_but(std::vector<SeccompSyscall> rules) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls = std::move(rules);
  return s;
}

TEST(SeccompProfileTest, ValidatesActionsOpsAndFlags) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = 38;
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"};
  s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  s.syscalls = {rule({"read", "write"}, "SCMP_ACT_ALLOW"),
                rule({"kill"}, "SCMP_ACT_KILL_PROCESS"),
                rule({"dup"}, "SCMP_ACT_TRACE"),
                rule({"personality"}, "SCMP_ACT_ALLOW",
                     {{0, 0xff, 0, "SCMP_CMP_MASKED_EQ"}, {1, 3, 0, "SCMP_CMP_LE"}})};
  auto p = validate_seccomp(s);
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->default_action, (SeccompAction{SeccompActionKind::kErrno, 38}));
  EXPECT_EQ(p->flags, kSeccompFlagLog | kSeccompFlagSpecAllow);
  ASSERT_EQ(p->rules.size(), 4u);
  EXPECT_EQ(p->rules[1].action.kind, SeccompActionKind::kKillProcess);
  EXPECT_EQ(p->rules[2].action, (SeccompAction{SeccompActionKind::kTrace, EPERM}));
  ASSERT_EQ(p->rules[3].conditions.size(), 2u);
  EXPECT_EQ(p->rules[3].conditions[0].op, SeccompOp::kMaskedEqual);
  EXPECT_EQ(p->rules[3].conditions[0].value, 0xffu);
  EXPECT_EQ(p->rules[3].conditions[1].index, 1u);
  EXPECT_EQ(p->rules[3].conditions[1].op, SeccompOp::kLessEqual);
}

TEST(SeccompProfileTest, ErrnoWithoutErrnoRetMeansEperm) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  auto p = validate_seccomp(s);
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->default_action.value, static_cast<uint32_t>(EPERM));
}

TEST(SeccompProfileTest, UnknownActionNamesTheField) {
  auto p = validate_seccomp(allow_all_but(
      {rule({"read"}, "SCMP_ACT_ALLOW"), rule({"mount"}, "SCMP_ACT_FOO")}));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(p.error().message(), "linux.seccomp.syscalls[1].action: unknown action 'SCMP_ACT_FOO'");

  Seccomp bad_default;
  bad_default.default_action = "SCMP_ACT_DENY";
  EXPECT_EQ(validate_seccomp(bad_default).error().message(),
            "linux.seccomp.defaultAction: unknown action 'SCMP_ACT_DENY'");
  EXPECT_EQ(validate_seccomp(Seccomp{}).error().message(),
            "linux.seccomp.defaultAction: missing action");
}

TEST(SeccompProfileTest, UnknownOperatorNamesTheField) {
  auto p = validate_seccomp(allow_all_but(
      {rule({"clone"}, "SCMP_ACT_ERRNO", {{0, 1, 0, "SCMP_CMP_EQ"}, {1, 1, 0, "SCMP_CMP_FOO"}})}));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(p.error().message(),
            "linux.seccomp.syscalls[0].args[1].op: unknown operator 'SCMP_CMP_FOO'");
}

TEST(SeccompProfileTest, NotifyIsAClearUnsupportedError) {
  auto p = validate_seccomp(allow_all_but({rule({"mount"}, "SCMP_ACT_NOTIFY")}));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::kUnimplemented);
  EXPECT_EQ(p.error().message(),
            "linux.seccomp.syscalls[0].action: action 'SCMP_ACT_NOTIFY' is not supported "
            "(gantry has no seccomp notify listener)");
  Seccomp listener = allow_all_but({});
  listener.flags = {"SECCOMP_FILTER_FLAG_NEW_LISTENER"};
  EXPECT_EQ(validate_seccomp(listener).error().code(), ErrorCode::kUnimplemented);
}

TEST(SeccompProfileTest, OtherMistakesNameTheirField) {
  Seccomp arch = allow_all_but({});
  arch.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"};
  EXPECT_EQ(validate_seccomp(arch).error().message(),
            "linux.seccomp.architectures[1]: unknown architecture 'SCMP_ARCH_Z80'");

  Seccomp flag = allow_all_but({});
  flag.flags = {"SECCOMP_FILTER_FLAG_FAST"};
  EXPECT_EQ(validate_seccomp(flag).error().message(),
            "linux.seccomp.flags[0]: unknown flag 'SECCOMP_FILTER_FLAG_FAST'");

  EXPECT_EQ(validate_seccomp(allow_all_but({rule({"read"}, "SCMP_ACT_ERRNO"),
                                            rule({"write", "Bad Name"}, "SCMP_ACT_ERRNO")}))
                .error()
                .message(),
            "linux.seccomp.syscalls[1].names[1]: invalid syscall name 'Bad Name'");
  EXPECT_EQ(validate_seccomp(allow_all_but({rule({"read", ""}, "SCMP_ACT_ERRNO")}))
                .error()
                .message(),
            "linux.seccomp.syscalls[0].names[1]: empty syscall name");
  EXPECT_EQ(validate_seccomp(allow_all_but({rule({}, "SCMP_ACT_ERRNO")})).error().message(),
            "linux.seccomp.syscalls[0].names: no syscall names");
  EXPECT_EQ(validate_seccomp(allow_all_but({rule({"read"}, "SCMP_ACT_ERRNO",
                                                 {{6, 0, 0, "SCMP_CMP_EQ"}})}))
                .error()
                .message(),
            "linux.seccomp.syscalls[0].args[0].index: 6 is out of range 0..5 (syscalls take at "
            "most 6 arguments)");

  SeccompSyscall errno_on_allow = rule({"read"}, "SCMP_ACT_ALLOW");
  errno_on_allow.errno_ret = 1;
  EXPECT_EQ(validate_seccomp(allow_all_but({errno_on_allow})).error().message(),
            "linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or "
            "SCMP_ACT_TRACE, not 'SCMP_ACT_ALLOW'");
  SeccompSyscall big_errno = rule({"read"}, "SCMP_ACT_ERRNO");
  big_errno.errno_ret = 70000;
  EXPECT_EQ(validate_seccomp(allow_all_but({big_errno})).error().message(),
            "linux.seccomp.syscalls[0].errnoRet: 70000 is out of range 0..4095");
}

TEST(SeccompCompileTest, UnknownSyscallNamesAreSkippedAndListed) {
  auto c = compile_seccomp(allow_all_but(
      {rule({"getppid", "gantry_no_such_syscall"}, "SCMP_ACT_ERRNO")}));
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->skipped_syscalls, std::vector<std::string>{"gantry_no_such_syscall"});
  EXPECT_FALSE(c->program.empty());
}

TEST(SeccompCompileTest, ConflictingRulesNameTheSecondOne) {
  SeccompArg fd1{0, 1, 0, "SCMP_CMP_EQ"};
  SeccompSyscall eperm = rule({"write"}, "SCMP_ACT_ERRNO", {fd1});
  SeccompSyscall enosys = rule({"read", "write"}, "SCMP_ACT_ERRNO", {fd1});
  enosys.errno_ret = ENOSYS;
  auto c = compile_seccomp(allow_all_but({eperm, enosys}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(c.error().message(),
            "linux.seccomp.syscalls[1].names[1]: 'write' already has a rule with the same "
            "conditions and another action");
}

TEST(SeccompCompileTest, ArchitecturesOfTheOtherByteOrderAreLeftOut) {
  Seccomp s = allow_all_but({rule({"mount"}, "SCMP_ACT_ERRNO")});
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_S390X", "SCMP_ARCH_AARCH64",
                     "SCMP_ARCH_PPC64"};
  auto c = compile_seccomp(s);
  ASSERT_TRUE(c.ok()) << c.error().message();
  if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
    EXPECT_EQ(c->skipped_architectures,
              (std::vector<std::string>{"SCMP_ARCH_S390X", "SCMP_ARCH_PPC64"}));
  } else {
    EXPECT_EQ(c->skipped_architectures,
              (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"}));
  }
}

TEST(SeccompCompileTest, CompileReportsValidationErrors) {
  auto c = compile_seccomp(allow_all_but({rule({"mount"}, "SCMP_ACT_BOGUS")}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(),
            "linux.seccomp.syscalls[0].action: unknown action 'SCMP_ACT_BOGUS'");
}

TEST(SeccompCompileTest, RuleWithTheDefaultActionChangesNothing) {
  auto plain = compile_seccomp(allow_all_but({rule({"mount"}, "SCMP_ACT_ERRNO")}));
  auto redundant = compile_seccomp(allow_all_but(
      {rule({"mount"}, "SCMP_ACT_ERRNO"), rule({"read", "write"}, "SCMP_ACT_ALLOW")}));
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  ASSERT_TRUE(redundant.ok()) << redundant.error().message();
  ASSERT_EQ(plain->program.size(), redundant->program.size());
  EXPECT_TRUE(std::equal(plain->program.begin(), plain->program.end(),
                         redundant->program.begin(), [](const sock_filter& a,
                                                        const sock_filter& b) {
                           return a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k;
                         }));
}

TEST(SeccompCompileTest, FlagsCarryOverToTheCompiledFilter) {
  Seccomp s = allow_all_but({rule({"mount"}, "SCMP_ACT_ERRNO")});
  s.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  auto c = compile_seccomp(s);
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->flags, kSeccompFlagLog);
}

TEST(DefaultProfileTest, CompilesWithinTheKernelLimit) {
  auto c = compile_seccomp(default_seccomp_profile());
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_GT(c->program.size(), 100u);
  EXPECT_LE(c->program.size(), static_cast<size_t>(BPF_MAXINSNS));
  // Only syscalls newer than this libseccomp may be skipped, never the everyday ones.
  for (const auto& name : c->skipped_syscalls) {
    EXPECT_NE(name, "read");
    EXPECT_NE(name, "openat");
    EXPECT_NE(name, "clone");
  }
}

TEST(DefaultProfileTest, DeniesByDefaultAndNeverAllowsTheDangerousSyscalls) {
  Seccomp s = default_seccomp_profile();
  EXPECT_EQ(s.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(s.default_errno_ret, static_cast<uint32_t>(EPERM));
  const std::vector<std::string> blocked = {
      "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load", "init_module",
      "finit_module", "delete_module", "bpf", "mount", "umount2", "umount", "pivot_root",
      "swapon", "swapoff", "reboot", "perf_event_open", "userfaultfd", "open_by_handle_at",
      "settimeofday", "clock_settime", "acct", "quotactl", "lookup_dcookie", "unshare",
      "setns", "iopl", "ioperm", "fsopen", "move_mount", "open_tree", "io_uring_setup"};
  for (const auto& sc : s.syscalls) {
    if (sc.action != "SCMP_ACT_ALLOW") continue;
    for (const auto& name : sc.names) {
      EXPECT_EQ(std::find(blocked.begin(), blocked.end(), name), blocked.end())
          << name << " must not be allowed";
      if (name == "clone" || name == "personality" || name == "socket") {
        EXPECT_FALSE(sc.args.empty()) << name << " is allowed only with argument checks";
      }
    }
  }
}

}  // namespace
}  // namespace gantry::runtime
