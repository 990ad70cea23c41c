#include "common/kernel_version.h"

#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(KernelVersionTest, ReadsMajorAndMinorOfARelease) {
  KernelVersion v = parse_kernel_release("6.18.44-fc-v782");
  EXPECT_EQ(v.major, 6);
  EXPECT_EQ(v.minor, 18);
  EXPECT_TRUE(v.at_least(5, 10));
  EXPECT_TRUE(v.at_least(6, 18));
  EXPECT_FALSE(v.at_least(6, 19));
  EXPECT_FALSE(v.at_least(7, 0));
  KernelVersion old = parse_kernel_release("5.4.0-150-generic");
  EXPECT_FALSE(old.at_least(5, 10));
  EXPECT_TRUE(old.at_least(4, 19));
}

TEST(KernelVersionTest, SomethingElseIsVersionZero) {
  for (const char* bad : {"", "6", "6.", "x.y", "-1.2"}) {
    KernelVersion v = parse_kernel_release(bad);
    EXPECT_EQ(v.major, 0) << bad;
    EXPECT_FALSE(v.at_least(1, 0)) << bad;
  }
  EXPECT_TRUE(running_kernel().at_least(3, 0)) << "uname(2) gives this machine's release";
}

}  // namespace
}  // namespace gantry
