// Capabilities applied for real, as root, in forked children: what /proc/self/status shows
// afterwards must be exactly the sets asked for, also after leaving uid 0 and across execve
// (where the ambient set is what keeps capabilities alive for an unprivileged user).
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "runtime/capabilities.h"
#include "runtime/rlimits.h"
#include "runtime/security.h"
#include "tests/support/forked_child.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime {
namespace {

using gantry::testing::ChildReport;
using gantry::testing::run_in_child;
using gantry::testing::TempDir;

constexpr const char* kKeys[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};

// Child side: reports the five masks of /proc/self/status in kKeys order (-1 if missing).
void report_status_caps(const ChildReport& out) {
  int64_t values[5] = {-1, -1, -1, -1, -1};
  FILE* f = std::fopen("/proc/self/status", "re");
  char line[256];
  while (f != nullptr && std::fgets(line, sizeof line, f) != nullptr) {
    for (size_t i = 0; i < 5; ++i) {
      size_t n = std::strlen(kKeys[i]);
      if (std::strncmp(line, kKeys[i], n) == 0 && line[n] == ':') {
        values[i] = static_cast<int64_t>(std::strtoull(line + n + 1, nullptr, 16));
      }
    }
  }
  if (f != nullptr) std::fclose(f);
  for (int64_t v : values) out.report(v);
}

class SecurityRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: sets capabilities and switches uid";
    last_cap_ = kernel_last_capability();
  }

  CapabilitySet compile(const Capabilities& caps) {
    auto set = compile_capabilities(caps, last_cap_);
    EXPECT_TRUE(set.ok()) << set.error().message();
    return set.ok() ? *set : CapabilitySet{};
  }

  static uint64_t bit(int cap) { return 1ULL << cap; }
  static bool has_effective(int cap) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capget, &header, data) != 0) return false;
    return (data[cap / 32].effective >> (cap % 32)) & 1;
  }
  int last_cap_ = 0;
};

TEST_F(SecurityRootTest, ROOT_AppliedSetsAreExactlyWhatWasAskedFor) {
  Capabilities caps;
  caps.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"};
  caps.permitted = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  caps.effective = {"CAP_CHOWN", "CAP_KILL"};
  caps.inheritable = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  caps.ambient = {"CAP_KILL"};
  CapabilitySet set = compile(caps);
  auto outcome = run_in_child([&](const ChildReport& out) {
    out.report(apply_capabilities(set));
    report_status_caps(out);
  });
  ASSERT_TRUE(outcome.exited_ok()) << "wait status " << outcome.wait_status;
  EXPECT_EQ(outcome.values,
            (std::vector<int64_t>{
                0, static_cast<int64_t>(bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE)),
                static_cast<int64_t>(bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE)),
                static_cast<int64_t>(bit(CAP_CHOWN) | bit(CAP_KILL)),
                static_cast<int64_t>(bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE) |
                                     bit(CAP_SETUID)),
                static_cast<int64_t>(bit(CAP_KILL))}));
}

TEST_F(SecurityRootTest, ROOT_EmptySetsDropEverything) {
  CapabilitySet set = compile(Capabilities{});
  auto outcome = run_in_child([&](const ChildReport& out) {
    out.report(apply_capabilities(set));
    report_status_caps(out);
    // Without CAP_SETUID, root can no longer become another user... but stays uid 0.
    out.report_errno(::syscall(SYS_setresuid, 1, 1, 1));
  });
  ASSERT_TRUE(outcome.exited_ok()) << "wait status " << outcome.wait_status;
  EXPECT_EQ(outcome.values, (std::vector<int64_t>{0, 0, 0, 0, 0, 0, EPERM}));
}

TEST_F(SecurityRootTest, ROOT_DefaultCapabilitiesAreDockersFourteen) {
  CapabilitySet set = compile(default_container_capabilities());
  auto outcome = run_in_child([&](const ChildReport& out) {
    out.report(apply_capabilities(set));
    report_status_caps(out);
  });
  ASSERT_TRUE(outcome.exited_ok()) << "wait status " << outcome.wait_status;
  ASSERT_EQ(outcome.values.size(), 6u);
  EXPECT_EQ(outcome.values[0], 0);
  EXPECT_EQ(outcome.values[1], 0);  // CapInh
  for (size_t i : {2, 3, 4}) {
    EXPECT_EQ(static_cast<uint64_t>(outcome.values[i]), set.bounding) << kKeys[i - 1];
    EXPECT_EQ(__builtin_popcountll(static_cast<uint64_t>(outcome.values[i])), 14);
  }
  EXPECT_EQ(outcome.values[5], 0);  // CapAmb
}

// The launcher's order for a non-root process user: bounding set while still root, then the
// uid switch with keepcaps, then capset and ambient.
TEST_F(SecurityRootTest, ROOT_CapabilitiesSurviveTheSwitchToAnUnprivilegedUser) {
  Capabilities caps;
  caps.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"};
  caps.permitted = {"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"};
  caps.effective = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  caps.inheritable = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  caps.ambient = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  CapabilitySet set = compile(caps);
  const gid_t groups[] = {65534, 4242};
  auto outcome = run_in_child([&](const ChildReport& out) {
    out.report(drop_bounding_set(set));
    out.report(switch_user(65534, 65534, groups, 2));
    out.report(apply_process_capabilities(set));
    out.report(::getuid());
    out.report(::getgid());
    gid_t got[8] = {};
    int n = ::getgroups(8, got);
    out.report(n == 2 ? got[0] + got[1] : -1);
    report_status_caps(out);
  });
  ASSERT_TRUE(outcome.exited_ok()) << "wait status " << outcome.wait_status;
  const uint64_t amb = bit(CAP_KILL) | bit(CAP_NET_BIND_SERVICE);
  EXPECT_EQ(outcome.values,
            (std::vector<int64_t>{0, 0, 0, 65534, 65534, 65534 + 4242,
                                  static_cast<int64_t>(amb),
                                  static_cast<int64_t>(amb | bit(CAP_NET_RAW)),
                                  static_cast<int64_t>(amb),
                                  static_cast<int64_t>(amb | bit(CAP_NET_RAW) | bit(CAP_CHOWN)),
                                  static_cast<int64_t>(amb)}));
}

TEST_F(SecurityRootTest, ROOT_WithoutKeepcapsTheSwitchWouldLoseThem) {
  // The control for the test above: a plain setresuid leaves nothing to capset from.
  Capabilities caps;
  caps.permitted = {"CAP_KILL"};
  caps.effective = {"CAP_KILL"};
  CapabilitySet set = compile(caps);
  auto outcome = run_in_child([&](const ChildReport& out) {
    out.report_errno(::syscall(SYS_setresuid, 65534, 65534, 65534));
    out.report(apply_process_capabilities(set));
  });
  ASSERT_TRUE(outcome.exited_ok()) << "wait status " << outcome.wait_status;
  EXPECT_EQ(outcome.values, (std::vector<int64_t>{0, EPERM}));
}

// Ambient capabilities are what an unprivileged user's program keeps across execve: run the
// static payload and let it print its own status.
TEST_F(SecurityRootTest, ROOT_AmbientCapabilitiesReachTheExecutedProgram) {
  // A copy anyone may execute, whatever the permissions of the build directory are.
  TempDir dir("gantry-security");
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  const std::string payload = dir.file("payload");
  std::filesystem::copy_file(GANTRY_TEST_PAYLOAD, payload);
  ASSERT_EQ(::chmod(payload.c_str(), 0755), 0);

  Capabilities caps;
  caps.bounding = {"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"};
  caps.permitted = {"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"};
  caps.effective = caps.permitted;
  caps.inheritable = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  caps.ambient = {"CAP_NET_BIND_SERVICE"};
  CapabilitySet set = compile(caps);

  for (const char* key : {"CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb"}) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (drop_bounding_set(set) != 0 || switch_user(65534, 65534, nullptr, 0) != 0 ||
          apply_process_capabilities(set) != 0 || set_no_new_privs() != 0 ||
          ::dup2(fds[1], 1) != 1) {
        ::_exit(100);
      }
      ::execl(payload.c_str(), "payload", "print-status", key, static_cast<char*>(nullptr));
      ::_exit(101);
    }
    ::close(fds[1]);
    std::string text;
    char buf[128];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << key << " status " << status;
    uint64_t got = std::strtoull(text.c_str(), nullptr, 16);
    uint64_t want = 0;
    std::string k = key;
    if (k == "CapEff" || k == "CapPrm" || k == "CapAmb") want = set.ambient;
    if (k == "CapInh") want = set.inheritable;
    if (k == "CapBnd") want = set.bounding;
    EXPECT_EQ(got, want) << key << " was '" << text << "'";
  }
}

TEST_F(SecurityRootTest, ROOT_RlimitsRaiseTheHardLimitWhileStillPrivileged) {
  if (!has_effective(CAP_SYS_RESOURCE))
    GTEST_SKIP() << "needs CAP_SYS_RESOURCE, which this root lacks";
  // The child lowers its hard limit first, so that raising it again is a real test.
  auto set = compile_rlimits({{"RLIMIT_NOFILE", 8192, 8192}});
  ASSERT_TRUE(set.ok()) << set.error().message();
  auto outcome = run_in_child([&](const ChildReport& out) {
    struct rlimit low {512, 512};
    out.report_errno(::setrlimit(RLIMIT_NOFILE, &low));
    out.report(apply_rlimits(*set));
    struct rlimit now {};
    ::getrlimit(RLIMIT_NOFILE, &now);
    out.report(static_cast<int64_t>(now.rlim_max));
  });
  ASSERT_TRUE(outcome.exited_ok()) << "wait status " << outcome.wait_status;
  EXPECT_EQ(outcome.values, (std::vector<int64_t>{0, 0, 8192}));
}

}  // namespace
}  // namespace gantry::runtime
