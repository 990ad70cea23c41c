#include "runtime/security_features.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/capabilities.h"
#include "runtime/seccomp/apply.h"
#include "runtime/seccomp/compile.h"
#include "runtime/security.h"
#include "tests/support/forked_child.h"

namespace gantry::runtime {
namespace {

using gantry::testing::ChildReport;
using gantry::testing::run_in_child;

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(SecurityFeaturesTest, KnownCapabilitiesAreEveryNameInNumberOrder) {
  auto caps = known_capabilities();
  ASSERT_EQ(caps.size(), static_cast<size_t>(kLastKnownCapability + 1));
  EXPECT_EQ(caps.front(), "CAP_CHOWN");
  EXPECT_EQ(caps[21], "CAP_SYS_ADMIN");
  EXPECT_EQ(caps.back(), "CAP_CHECKPOINT_RESTORE");
}

TEST(SecurityFeaturesTest, EverythingAdvertisedIsAcceptedAndNothingElse) {
  SeccompFeatures f = seccomp_features();
  ASSERT_TRUE(f.enabled) << "the unit tests load filters, so this kernel has seccomp";
  EXPECT_TRUE(contains(f.actions, "SCMP_ACT_ERRNO"));
  EXPECT_TRUE(contains(f.actions, "SCMP_ACT_KILL_PROCESS"));
  EXPECT_FALSE(contains(f.actions, "SCMP_ACT_NOTIFY"));
  for (const auto& action : f.actions) {
    Seccomp s;
    s.default_action = action;
    EXPECT_TRUE(validate_seccomp(s).ok()) << action;
  }
  for (const auto& op : f.operators) {
    Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    s.syscalls = {{{"dup"}, "SCMP_ACT_ERRNO", std::nullopt, {{0, 1, 1, op}}}};
    auto c = compile_seccomp(s);
    EXPECT_TRUE(c.ok()) << op << ": " << c.error().message();
  }
  int added = 0, left_out = 0;
  for (const auto& arch : f.archs) {
    Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    s.architectures = {arch};
    s.syscalls = {{{"mount"}, "SCMP_ACT_ERRNO", std::nullopt, {}}};
    auto c = compile_seccomp(s);
    EXPECT_TRUE(c.ok()) << arch << ": " << c.error().message();
    if (c.ok()) ++(c->skipped_architectures.empty() ? added : left_out);
  }
  // A little-endian host (every host Gantry's CI runs on) takes the little-endian ones and
  // leaves the big-endian ones out.
  EXPECT_GE(added, 4);
  EXPECT_GE(left_out, 4);
  EXPECT_TRUE(contains(f.known_flags, "SECCOMP_FILTER_FLAG_NEW_LISTENER"));
  EXPECT_FALSE(contains(f.supported_flags, "SECCOMP_FILTER_FLAG_NEW_LISTENER"));
  EXPECT_TRUE(contains(f.supported_flags, "SECCOMP_FILTER_FLAG_LOG"));  // every kernel >= 4.14
}

// The flag probe must agree with what loading a filter with the flag does.
TEST(SecurityFeaturesTest, SupportedFlagsLoad) {
  SeccompFeatures f = seccomp_features();
  ASSERT_FALSE(f.supported_flags.empty());
  for (const auto& flag : f.supported_flags) {
    EXPECT_TRUE(contains(f.known_flags, flag)) << flag;
    Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    s.flags = {flag};
    s.syscalls = {{{"keyctl"}, "SCMP_ACT_ERRNO", std::nullopt, {}}};
    auto c = compile_seccomp(s);
    ASSERT_TRUE(c.ok()) << flag << ": " << c.error().message();
    auto outcome = run_in_child([&](const ChildReport& out) {
      out.report(set_no_new_privs());
      out.report(apply_seccomp(*c));
    });
    ASSERT_TRUE(outcome.exited_ok()) << flag;
    EXPECT_EQ(outcome.values, (std::vector<int64_t>{0, 0})) << flag;
  }
}

}  // namespace
}  // namespace gantry::runtime
