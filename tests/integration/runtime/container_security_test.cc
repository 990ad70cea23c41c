// Seccomp and capabilities through launch_container(): a busybox bundle in the shape `runc
// spec` writes, run to completion with the test payload as its process. Each test reaps its
// container and removes its cgroup.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "runtime/launcher.h"
#include "runtime/oci_config.h"
#include "runtime/seccomp/default_profile.h"
#include "tests/support/bundle.h"

namespace gantry::runtime {
namespace {

using testing::TestBundle;

struct Ran {
  int exit_code = -1;
  std::string out;
};

class ContainerSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (real namespaces, mounts, cgroups)";
    if (!testing::have_static_busybox()) GTEST_SKIP() << "needs busybox-static";
  }

  ContainerSpec spec_for(const std::vector<std::string>& args) {
    bundle_.config()["process"]["args"] = args;
    auto spec = parse_oci_config(bundle_.config(), bundle_.dir());
    EXPECT_TRUE(spec.ok()) << spec.error().message();
    return spec.ok() ? *spec : ContainerSpec{};
  }

  Result<Ran> run(const ContainerSpec& spec) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return sys_error("pipe");
    LaunchRequest req;
    req.id = std::string("rts-") +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
             std::to_string(runs_++) + "-" + std::to_string(::getpid());
    req.spec = spec;
    req.stdin_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    req.stdout_fd = p[1];
    req.stderr_fd = p[1];
    auto c = launch_container(req);
    ::close(p[1]);
    ::close(req.stdin_fd);
    Ran r;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(n));
    ::close(p[0]);
    if (!c.ok()) return c.error();
    int status = 0;
    EXPECT_EQ(::waitpid(c->pid, &status, 0), c->pid);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    auto st = c->cgroup->destroy();
    EXPECT_TRUE(st.ok()) << st.error().message();
    return r;
  }

  TestBundle bundle_;
  int runs_ = 0;
};

#define ASSERT_RAN(var, expr)                               \
  auto var##_or = (expr);                                   \
  ASSERT_TRUE(var##_or.ok()) << var##_or.error().message(); \
  const Ran& var = *var##_or

TEST_F(ContainerSecurityTest, ROOT_DefaultProfileDeniesKeyctlInTheContainer) {
  ContainerSpec spec = spec_for({"/payload", "keyctl"});
  ASSERT_TRUE(spec.process.no_new_privileges);
  ASSERT_RAN(open, run(spec));  // the control: without a filter keyctl works
  EXPECT_EQ(open.out, "ok\n");
  spec.seccomp = default_seccomp_profile();
  ASSERT_RAN(filtered, run(spec));
  EXPECT_EQ(filtered.out, "EPERM\n");
  EXPECT_EQ(filtered.exit_code, 0);
}

TEST_F(ContainerSecurityTest, ROOT_ShellPipelinesRunUnderTheDefaultProfile) {
  ContainerSpec spec = spec_for({"sh", "-c", "echo hello | tr a-z A-Z; ls / | grep -c bin"});
  spec.seccomp = default_seccomp_profile();
  ASSERT_RAN(r, run(spec));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "HELLO\n1\n");
}

// Without no_new_privs the filter is loaded while the init still has CAP_SYS_ADMIN, before the
// capabilities are dropped and the user switched, as runc does.
TEST_F(ContainerSecurityTest, ROOT_FilterLoadsWithoutNoNewPrivsForAnUnprivilegedUser) {
  ContainerSpec spec = spec_for({"sh", "-c", "/payload ids; /payload keyctl"});
  spec.process.no_new_privileges = false;
  spec.process.user.uid = 1000;
  spec.process.user.gid = 1000;
  spec.seccomp = default_seccomp_profile();
  ASSERT_RAN(r, run(spec));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "1000 1000  /\nEPERM\n");
}

TEST_F(ContainerSecurityTest, ROOT_CustomErrnoReachesTheProcess) {
  ContainerSpec spec = spec_for({"/payload", "mount"});
  ASSERT_RAN(caps_only, run(spec));  // the default capabilities alone give EPERM
  EXPECT_EQ(caps_only.out, "EPERM\n");
  Seccomp profile;
  profile.default_action = "SCMP_ACT_ALLOW";
  SeccompSyscall no_mount;
  no_mount.names = {"mount"};
  no_mount.action = "SCMP_ACT_ERRNO";
  no_mount.errno_ret = ENOSYS;
  profile.syscalls = {no_mount};
  spec.seccomp = profile;
  ASSERT_RAN(r, run(spec));
  EXPECT_EQ(r.out, "ENOSYS\n");
}

TEST_F(ContainerSecurityTest, ROOT_AmbientCapabilitiesForAnUnprivilegedUser) {
  ContainerSpec spec = spec_for({"/payload", "print-status", "CapEff"});
  spec.process.user.uid = 1000;
  spec.process.user.gid = 1000;
  spec.process.capabilities.inheritable = {"CAP_NET_BIND_SERVICE"};
  spec.process.capabilities.ambient = {"CAP_NET_BIND_SERVICE"};
  ASSERT_RAN(r, run(spec));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "0000000000000400\n");  // bit 10: CAP_NET_BIND_SERVICE
}

TEST_F(ContainerSecurityTest, ROOT_BadSecuritySettingsFailBeforeAnythingIsMade) {
  ContainerSpec spec = spec_for({"/bin/true"});
  spec.process.capabilities.bounding.push_back("CAP_FOO");
  auto caps = run(spec);
  ASSERT_FALSE(caps.ok());
  EXPECT_NE(caps.error().message().find(
                "process.capabilities.bounding[14]: unknown capability 'CAP_FOO'"),
            std::string::npos)
      << caps.error().message();

  spec = spec_for({"/bin/true"});
  Seccomp profile = default_seccomp_profile();
  profile.syscalls[0].action = "SCMP_ACT_NOTIFY";
  spec.seccomp = profile;
  auto notify = run(spec);
  ASSERT_FALSE(notify.ok());
  EXPECT_EQ(notify.error().code(), ErrorCode::kUnimplemented);
  EXPECT_NE(notify.error().message().find("linux.seccomp.syscalls[0].action: action "
                                          "'SCMP_ACT_NOTIFY' is not supported"),
            std::string::npos)
      << notify.error().message();
}

}  // namespace
}  // namespace gantry::runtime
