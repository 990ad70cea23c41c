// coverage: the last matching line wins, its first number is the value, colours don't matter,
// and lines split across chunks are whole again.
#include <gtest/gtest.h>

#include "agent/coverage.h"
#include "agent/run_output.h"

namespace gantry::agent {
namespace {

TEST(CoverageTest, LastMatchingLineWinsAcrossChunks) {
  auto s = CoverageScanner::make("/Code coverage: \\d+(?:\\.\\d+)?/");
  ASSERT_TRUE(s.ok()) << s.error().message();
  s->feed("Code coverage: 10.5\nnoise\nCode cov");
  s->feed("erage: 87.25 (of 3 files)\n");
  s->feed("no more\nCode coverage: n/a\n");  // lines without a match keep the value
  s->finish();
  EXPECT_EQ(s->value(), 87.25);
}

TEST(CoverageTest, AnsiColoursAreIgnoredAndNoMatchIsNone) {
  auto s = CoverageScanner::make("/^TOTAL.+?(\\d+%)$/");
  ASSERT_TRUE(s.ok());
  s->feed("\x1b[32;1mTOTAL     120    12    90%\x1b[0;m");
  s->finish();  // no trailing newline
  EXPECT_EQ(s->value(), 90);  // the capture group's number, not the line's first
  auto none = CoverageScanner::make("/Coverage: \\d+/");
  none->feed("nothing here\n");
  none->finish();
  EXPECT_FALSE(none->value().has_value());
}

TEST(CoverageTest, LastMatchInALineCounts) {
  auto s = CoverageScanner::make("/cov \\d+/");
  ASSERT_TRUE(s.ok());
  s->feed("cov 1 cov 2\n");
  s->finish();
  EXPECT_EQ(s->value(), 2);
}

TEST(CoverageTest, BadRegexIsNamed) {
  auto s = CoverageScanner::make("not a regex");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("coverage 'not a regex'"), std::string::npos);
}

TEST(CoverageTest, HelpersFindNumbersAndStripColours) {
  EXPECT_EQ(first_number("Lines: 87.50% covered"), 87.5);
  EXPECT_EQ(first_number("v2."), 2);
  EXPECT_FALSE(first_number("none").has_value());
  EXPECT_EQ(strip_ansi("\x1b[31;1mred\x1b[0;m plain"), "red plain");
}

}  // namespace
}  // namespace gantry::agent
