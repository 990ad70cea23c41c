#include "runtime/rlimits.h"

#include <sys/resource.h>

#include <gtest/gtest.h>

#include "tests/support/forked_child.h"

namespace gantry::runtime {
namespace {

using gantry::testing::ChildReport;
using gantry::testing::run_in_child;

TEST(RlimitsTest, NamesRoundTrip) {
  for (int r = 0; r < static_cast<int>(kRlimitCount); ++r) {
    std::string_view name = rlimit_name(r);
    ASSERT_FALSE(name.empty()) << r;
    EXPECT_EQ(rlimit_from_name(name), r) << name;
  }
  EXPECT_EQ(rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  EXPECT_EQ(rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  EXPECT_FALSE(rlimit_from_name("RLIMIT_FOO"));
  EXPECT_FALSE(rlimit_from_name("nofile"));
  EXPECT_TRUE(rlimit_name(99).empty());
}

TEST(RlimitsTest, CompilesInSpecOrder) {
  auto set = compile_rlimits({{"RLIMIT_NOFILE", 2048, 1024}, {"RLIMIT_CORE", 0, 0}});
  ASSERT_TRUE(set.ok()) << set.error().message();
  ASSERT_EQ(set->count, 2u);
  EXPECT_EQ(set->entries[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(set->entries[0].hard, 2048u);
  EXPECT_EQ(set->entries[0].soft, 1024u);
  EXPECT_EQ(set->entries[1].resource, RLIMIT_CORE);
}

TEST(RlimitsTest, UnknownTypeNamesTheEntry) {
  auto set = compile_rlimits({{"RLIMIT_CORE", 0, 0}, {"RLIMIT_FILES", 10, 10}});
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(set.error().message(), "process.rlimits[1]: unknown rlimit type 'RLIMIT_FILES'");
}

TEST(RlimitsTest, SoftAboveHardNamesTheEntry) {
  auto set = compile_rlimits({{"RLIMIT_CORE", 0, 0}, {"RLIMIT_AS", 1, 1},
                              {"RLIMIT_NOFILE", 1024, 4096}});
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().message(),
            "process.rlimits[2]: soft limit 4096 is above hard limit 1024 for 'RLIMIT_NOFILE'");
}

TEST(RlimitsTest, DuplicateTypeIsAnError) {
  auto set = compile_rlimits({{"RLIMIT_NOFILE", 10, 10}, {"RLIMIT_NOFILE", 20, 20}});
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().message(), "process.rlimits[1]: duplicate rlimit type 'RLIMIT_NOFILE'");
}

TEST(RlimitsTest, AppliedInAChildAndReadBack) {
  auto set = compile_rlimits({{"RLIMIT_NOFILE", 128, 64}, {"RLIMIT_CORE", 0, 0},
                              {"RLIMIT_MSGQUEUE", 4096, 1024}});
  ASSERT_TRUE(set.ok()) << set.error().message();
  auto outcome = run_in_child([&](const ChildReport& out) {
    out.report(apply_rlimits(*set));
    for (int r : {RLIMIT_NOFILE, RLIMIT_CORE, RLIMIT_MSGQUEUE}) {
      struct rlimit value {};
      ::getrlimit(static_cast<__rlimit_resource>(r), &value);
      out.report(static_cast<int64_t>(value.rlim_cur));
      out.report(static_cast<int64_t>(value.rlim_max));
    }
  });
  ASSERT_TRUE(outcome.exited_ok());
  EXPECT_EQ(outcome.values, (std::vector<int64_t>{0, 64, 128, 0, 0, 1024, 4096}));
  // The test process itself is untouched.
  struct rlimit mine {};
  ::getrlimit(RLIMIT_NOFILE, &mine);
  EXPECT_NE(mine.rlim_max, 128u);
}

TEST(RlimitsTest, ApplyReportsTheFailingEntry) {
  // No process may have more open files than fs.nr_open (at most 2^30), not even root.
  auto set = compile_rlimits({{"RLIMIT_CORE", 0, 0}, {"RLIMIT_NOFILE", 1ULL << 40, 64}});
  ASSERT_TRUE(set.ok()) << set.error().message();
  auto outcome = run_in_child([&](const ChildReport& out) {
    size_t failed = 99;
    out.report(apply_rlimits(*set, &failed));
    out.report(static_cast<int64_t>(failed));
  });
  ASSERT_TRUE(outcome.exited_ok());
  ASSERT_EQ(outcome.values.size(), 2u);
  EXPECT_EQ(outcome.values[0], EPERM);
  EXPECT_EQ(outcome.values[1], 1);
}

}  // namespace
}  // namespace gantry::runtime
