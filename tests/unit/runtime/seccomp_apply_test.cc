// Loads compiled filters into forked children and checks what the kernel then lets through.
// No root needed: every child sets no_new_privs first, as the container init does.
#include "runtime/seccomp/apply.h"

#include <linux/keyctl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "runtime/seccomp/compile.h"
#include "runtime/seccomp/default_profile.h"
#include "runtime/security.h"
#include "tests/support/forked_child.h"

namespace gantry::runtime {
namespace {

using gantry::testing::ChildReport;
using gantry::testing::run_in_child;

// Syscalls the default profile must deny, each called with arguments that make it fail
// harmlessly (or do nothing) when it does reach the kernel, so a broken filter cannot hurt the
// host. Each returns the raw result.
struct Probe {
  const char* name;
  long (*call)();
};

long clone_newns() {
  long pid = ::syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) ::_exit(0);
  if (pid > 0) ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return pid;
}

const Probe kDenied[] = {
    {"keyctl",
     [] { return ::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0); }},
    {"add_key", [] { return ::syscall(SYS_add_key, nullptr, nullptr, nullptr, 0, 0); }},
    {"unshare(CLONE_NEWUSER)", [] { return static_cast<long>(::unshare(CLONE_NEWUSER)); }},
    {"clone(CLONE_NEWNS)", clone_newns},
    {"mount",
     [] {
       return static_cast<long>(
           ::mount("none", "/nonexistent/gantry-seccomp-probe", "tmpfs", 0, nullptr));
     }},
    {"umount2", [] { return static_cast<long>(::umount2("/nonexistent/gantry-probe", 0)); }},
    {"pivot_root",
     [] { return ::syscall(SYS_pivot_root, "/nonexistent/gantry-a", "/nonexistent/gantry-b"); }},
    {"bpf", [] { return ::syscall(SYS_bpf, -1, nullptr, 0); }},
    {"perf_event_open", [] { return ::syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0); }},
    {"userfaultfd", [] { return ::syscall(SYS_userfaultfd, ~0); }},
    {"init_module", [] { return ::syscall(SYS_init_module, nullptr, 0, nullptr); }},
    {"swapon", [] { return ::syscall(SYS_swapon, nullptr, 0); }},
    {"open_by_handle_at", [] { return ::syscall(SYS_open_by_handle_at, -1, nullptr, 0); }},
    {"settimeofday", [] { return ::syscall(SYS_settimeofday, nullptr, nullptr); }},
    {"setns", [] { return ::syscall(SYS_setns, -1, 0); }},
    {"socket(AF_VSOCK)", [] { return static_cast<long>(::socket(40, SOCK_STREAM, 0)); }},
    {"personality(ADDR_NO_RANDOMIZE)",
     [] { return ::syscall(SYS_personality, ADDR_NO_RANDOMIZE); }},
};


void run_probes(const ChildReport& out) {
  for (const Probe& p : kDenied) out.report_errno(p.call());
}

CompiledSeccomp compiled_default() {
  auto c = compile_seccomp(default_seccomp_profile());
  EXPECT_TRUE(c.ok()) << c.error().message();
  return c.ok() ? std::move(c).value() : CompiledSeccomp{};
}

TEST(SeccompApplyTest, DefaultProfileDeniesTheDangerousSyscallsWithEperm) {
  CompiledSeccomp filter = compiled_default();
  ASSERT_FALSE(filter.program.empty());
  auto outcome = run_in_child([&](const ChildReport& out) {
    out.report(set_no_new_privs());
    out.report(apply_seccomp(filter));
    run_probes(out);
  });
  ASSERT_TRUE(outcome.exited_ok()) << "wait status " << outcome.wait_status;
  ASSERT_EQ(outcome.values.size(), 2 + std::size(kDenied));
  EXPECT_EQ(outcome.values[0], 0) << "no_new_privs";
  ASSERT_EQ(outcome.values[1], 0) << "apply_seccomp";
  for (size_t i = 0; i < std::size(kDenied); ++i) {
    EXPECT_EQ(outcome.values[2 + i], EPERM) << kDenied[i].name;
  }
}

// The control for the test above: the same profile with a marked errno that the kernel never
// gives for these calls. Every probe must come back with the mark, so the EPERMs above come from
// the filter and not from the kernel refusing an unprivileged caller.
TEST(SeccompApplyTest, DenialsComeFromTheFilter) {
  constexpr int kMark = ENOTRECOVERABLE;
  Seccomp marked = default_seccomp_profile();
  marked.default_errno_ret = kMark;
  auto filter = compile_seccomp(marked);
  ASSERT_TRUE(filter.ok()) << filter.error().message();
  auto without = run_in_child([&](const ChildReport& out) { run_probes(out); });
  auto with = run_in_child([&](const ChildReport& out) {
    out.report(set_no_new_privs());
    out.report(apply_seccomp(*filter));
    run_probes(out);
  });
  ASSERT_TRUE(without.exited_ok()) << "wait status " << without.wait_status;
  ASSERT_TRUE(with.exited_ok()) << "wait status " << with.wait_status;
  ASSERT_EQ(without.values.size(), std::size(kDenied));
  ASSERT_EQ(with.values.size(), 2 + std::size(kDenied));
  for (size_t i = 0; i < std::size(kDenied); ++i) {
    EXPECT_NE(without.values[i], kMark) << kDenied[i].name;
    EXPECT_EQ(with.values[2 + i], kMark) << kDenied[i].name;
  }
}

void* thread_main(void*) { return reinterpret_cast<void*>(static_cast<intptr_t>(::gettid())); }

TEST(SeccompApplyTest, DefaultProfileLetsOrdinaryProgramsRun) {
  CompiledSeccomp filter = compiled_default();
  ASSERT_FALSE(filter.program.empty());
  auto outcome = run_in_child([&](const ChildReport& out) {
    out.report(set_no_new_privs());
    out.report(apply_seccomp(filter));
    out.report(::syscall(SYS_getpid) == ::getpid() && ::getpid() > 0);
    // fork: glibc uses clone(2) without namespace flags.
    pid_t child = ::fork();
    if (child == 0) ::_exit(7);
    int status = 0;
    out.report(child > 0 && ::waitpid(child, &status, 0) == child && WIFEXITED(status)
                   ? WEXITSTATUS(status)
                   : -1);
    // Threads: glibc tries clone3, gets ENOSYS and falls back to clone(2).
    pthread_t thread;
    void* tid = nullptr;
    int rc = ::pthread_create(&thread, nullptr, thread_main, nullptr);
    if (rc == 0) rc = ::pthread_join(thread, &tid);
    out.report(rc);
    out.report(tid != nullptr && reinterpret_cast<intptr_t>(tid) != ::getpid());
    out.report_errno(::syscall(SYS_clone3, nullptr, 0));
    out.report_errno(::syscall(SYS_personality, 0xffffffff));
    out.report_errno(::syscall(SYS_personality, PER_LINUX));
    int fds[2];
    out.report_errno(::pipe(fds));
  });
  ASSERT_TRUE(outcome.exited_ok()) << "wait status " << outcome.wait_status;
  EXPECT_EQ(outcome.values, (std::vector<int64_t>{0, 0, 1, 7, 0, 1, ENOSYS, 0, 0, 0}));
}

TEST(SeccompApplyTest, CustomProfileWithErrnoAndArgumentConditions) {
  auto rule = [](std::vector<std::string> names, uint32_t err, std::vector<SeccompArg> args) {
    SeccompSyscall s;
    s.names = std::move(names);
    s.action = "SCMP_ACT_ERRNO";
    s.errno_ret = err;
    s.args = std::move(args);
    return s;
  };
  Seccomp profile;
  profile.default_action = "SCMP_ACT_ALLOW";
  profile.syscalls = {
      rule({"getcpu"}, ENOSYS, {}),
      rule({"dup"}, ENOSYS, {{0, 777, 0, "SCMP_CMP_EQ"}}),
      // Two conditions on different arguments: both must hold.
      rule({"dup2"}, EXDEV, {{0, 0, 0, "SCMP_CMP_EQ"}, {1, 900, 0, "SCMP_CMP_EQ"}}),
      // Two conditions on the same argument: either may hold.
      rule({"fchdir"}, ENOTSUP, {{0, 801, 0, "SCMP_CMP_EQ"}, {0, 802, 0, "SCMP_CMP_EQ"}}),
      rule({"getpriority"}, ENOSYS, {{0, 0xff00, 0x1200, "SCMP_CMP_MASKED_EQ"}}),
      rule({"fchmod"}, EXDEV, {{0, 1000, 0, "SCMP_CMP_GE"}, {1, 0100, 0, "SCMP_CMP_LT"}}),
  };
  auto filter = compile_seccomp(profile);
  ASSERT_TRUE(filter.ok()) << filter.error().message();
  auto outcome = run_in_child([&](const ChildReport& out) {
    out.report(set_no_new_privs());
    out.report(apply_seccomp(*filter));
    unsigned cpu = 0;
    out.report_errno(::syscall(SYS_getcpu, &cpu, nullptr, nullptr));  // ENOSYS
    out.report_errno(::syscall(SYS_dup, 777));                         // ENOSYS
    out.report_errno(::syscall(SYS_dup, 778));                         // EBADF: not matched
    out.report_errno(::syscall(SYS_dup2, 0, 900));                     // EXDEV
    out.report_errno(::syscall(SYS_dup2, 0, 901));                     // 0: only one holds
    out.report_errno(::syscall(SYS_fchdir, 801));                      // ENOTSUP
    out.report_errno(::syscall(SYS_fchdir, 802));                      // ENOTSUP
    out.report_errno(::syscall(SYS_fchdir, 803));                      // EBADF
    out.report_errno(::syscall(SYS_getpriority, 0x1234, 0));           // ENOSYS
    out.report_errno(::syscall(SYS_getpriority, 0x1334, 0));           // EINVAL: bad `which`
    out.report_errno(::syscall(SYS_fchmod, 1500, 0));                  // EXDEV
    out.report_errno(::syscall(SYS_fchmod, 1500, 0777));               // EBADF
    out.report_errno(::syscall(SYS_fchmod, 500, 0));                   // EBADF
  });
  ASSERT_TRUE(outcome.exited_ok()) << "wait status " << outcome.wait_status;
  EXPECT_EQ(outcome.values, (std::vector<int64_t>{0, 0, ENOSYS, ENOSYS, EBADF, EXDEV, 0, ENOTSUP,
                                                  ENOTSUP, EBADF, ENOSYS, EINVAL, EXDEV, EBADF,
                                                  EBADF}));
}

TEST(SeccompApplyTest, KillProcessActionKillsWithSigsys) {
  Seccomp profile;
  profile.default_action = "SCMP_ACT_ALLOW";
  SeccompSyscall kill_getppid;
  kill_getppid.names = {"getppid"};
  kill_getppid.action = "SCMP_ACT_KILL_PROCESS";
  profile.syscalls = {kill_getppid};
  auto filter = compile_seccomp(profile);
  ASSERT_TRUE(filter.ok()) << filter.error().message();
  auto outcome = run_in_child([&](const ChildReport& out) {
    out.report(set_no_new_privs());
    out.report(apply_seccomp(*filter));
    ::syscall(SYS_getppid);
    out.report(12345);  // never reached
  });
  ASSERT_TRUE(WIFSIGNALED(outcome.wait_status)) << "wait status " << outcome.wait_status;
  EXPECT_EQ(WTERMSIG(outcome.wait_status), SIGSYS);
  EXPECT_EQ(outcome.values, (std::vector<int64_t>{0, 0}));
}

TEST(SeccompApplyTest, LoadingWithoutNoNewPrivsNeedsCapSysAdmin) {
  CompiledSeccomp filter = compiled_default();
  ASSERT_FALSE(filter.program.empty());
  auto outcome = run_in_child([&](const ChildReport& out) {
    // Drop to an unprivileged uid first when root, so the kernel must refuse.
    if (::geteuid() == 0 && ::syscall(SYS_setresuid, 65534, 65534, 65534) != 0) ::_exit(3);
    out.report(apply_seccomp(filter));
  });
  ASSERT_TRUE(outcome.exited_ok()) << "wait status " << outcome.wait_status;
  EXPECT_EQ(outcome.values, (std::vector<int64_t>{EACCES}));
}

TEST(SeccompApplyTest, EmptyProgramIsANoOp) {
  EXPECT_EQ(apply_seccomp(CompiledSeccomp{}), 0);
}

}  // namespace
}  // namespace gantry::runtime
