#include "common/strings.h"

#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(StringsTest, TrimCutsAsciiWhitespaceAtBothEnds) {
  EXPECT_EQ(trim("  a b\t\r\n"), "a b");
  EXPECT_EQ(trim("\n\v\f"), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("x"), "x");
}

TEST(StringsTest, SplitNonemptyLeavesOutEmptyFields) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split_nonempty(std::string_view("a\0b\0\0c\0", 7), '\0'), (V{"a", "b", "c"}));
  EXPECT_EQ(split_nonempty("x,y", ','), (V{"x", "y"}));
  EXPECT_EQ(split_nonempty("", ','), V{});
  EXPECT_EQ(split_nonempty(",,", ','), V{});
}

}  // namespace
}  // namespace gantry
