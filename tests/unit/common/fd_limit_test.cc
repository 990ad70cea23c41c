// raise_open_files_limit(): the soft RLIMIT_NOFILE goes up to the hard one.
#include "common/fd_limit.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace gantry {
namespace {

TEST(FdLimitTest, RaisesTheSoftLimitToTheHardOne) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max <= 512) {
    GTEST_SKIP() << "hard RLIMIT_NOFILE is " << saved.rlim_max << ": nothing to raise";
  }
  rlimit low = saved;
  low.rlim_cur = 512;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  auto before = open_files_limit();
  ASSERT_TRUE(before.ok()) << before.error().message();
  EXPECT_EQ(before->soft, 512u);

  auto raised = raise_open_files_limit();
  ASSERT_TRUE(raised.ok()) << raised.error().message();
  EXPECT_GT(raised->soft, 512u);
  if (saved.rlim_max != RLIM_INFINITY) {
    EXPECT_EQ(raised->soft, saved.rlim_max);
  }
  rlimit now{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(static_cast<uint64_t>(now.rlim_cur), raised->soft);

  // Raising again changes nothing.
  auto again = raise_open_files_limit();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->soft, raised->soft);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
}

}  // namespace
}  // namespace gantry
