#include "common/text_table.h"

#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(TextTableTest, AlignsColumnsAndTrimsTrailingSpace) {
  EXPECT_EQ(format_table({"ID", "NAME", "X"}, {{"1", "demo", ""}, {"12", "a", "yes"}}),
            "ID  NAME  X\n"
            "1   demo\n"
            "12  a     yes\n");
}

TEST(TextTableTest, GapShortRowsAndExtraCells) {
  EXPECT_EQ(format_table({"A", "B"}, {{"x"}, {"long", "y", "dropped"}}, 4),
            "A       B\n"
            "x\n"
            "long    y\n");
  EXPECT_EQ(format_table({"ONLY"}, {}), "ONLY\n");
}

}  // namespace
}  // namespace gantry
