// PrefixedOutput and the summary table: lines prefixed and padded, chunks joined into lines,
// colours only on a terminal, the log's ANSI codes stripped otherwise.
#include <gtest/gtest.h>

#include "agent/run_output.h"

namespace gantry::agent {
namespace {

class PrefixedOutputTest : public ::testing::Test {
 protected:
  PrefixedOutput::Writer writer() {
    return [this](std::string_view s) { out_ += s; };
  }
  std::string out_;
};

TEST_F(PrefixedOutputTest, PrefixesEveryLinePaddedToTheLongestJobName) {
  PrefixedOutput p(writer(), {"build", "test 1/2"}, false);
  p.write("build", "one\ntwo\n");
  p.write("test 1/2", "three\n");
  EXPECT_EQ(out_, "build    | one\nbuild    | two\ntest 1/2 | three\n");
}

TEST_F(PrefixedOutputTest, JoinsChunksIntoLinesPerJobAndFlushesTheRestAtTheEnd) {
  PrefixedOutput p(writer(), {"a", "b"}, false);
  p.write("a", "hel");
  p.write("b", "other\n");
  p.write("a", "lo\nwor");
  EXPECT_EQ(out_, "b | other\na | hello\n");
  p.end_job("a");
  EXPECT_EQ(out_, "b | other\na | hello\na | wor\n");
  p.end_job("a");  // nothing left
  EXPECT_EQ(out_, "b | other\na | hello\na | wor\n");
}

TEST_F(PrefixedOutputTest, PlainOutputDropsTheLogsColoursAndProgressRedraws) {
  PrefixedOutput p(writer(), {"a"}, false);
  p.write("a", "\x1b[32;1m$ make\x1b[0;m\n10%\r50%\r100%\r\n");
  EXPECT_EQ(out_, "a | $ make\na | 100%\n");
}

TEST_F(PrefixedOutputTest, TerminalOutputColoursEachJobDifferentlyAndResetsAfterEachLine) {
  PrefixedOutput p(writer(), {"a", "b"}, true);
  p.write("a", "x\n");
  p.write("b", "y\n");
  EXPECT_EQ(out_, "\x1b[1;36ma |\x1b[0m x\x1b[0m\n\x1b[1;35mb |\x1b[0m y\x1b[0m\n");
}

TEST_F(PrefixedOutputTest, NotesAndMessages) {
  PrefixedOutput p(writer(), {"job"}, false);
  p.note("job", "skipped: an earlier job failed");
  p.message("pipeline failed");
  EXPECT_EQ(out_, "job | skipped: an earlier job failed\npipeline failed\n");
}

TEST(StripAnsiTest, RemovesCsiAndOscSequences) {
  EXPECT_EQ(strip_ansi("\x1b[0Ksection_start:1:x\r\x1b[0Kok"), "section_start:1:x\rok");
  EXPECT_EQ(strip_ansi("\x1b]8;;http://x\x07link\x1b]8;;\x07"), "link");
  EXPECT_EQ(strip_ansi("plain"), "plain");
}

TEST(SummaryTest, AlignsColumnsAndShowsDashForJobsThatDidNotRun) {
  std::string table = render_summary({
      {"build", "build", "success", 0.5, ""},
      {"lint", "test", "failed (allowed)", 12.31, "exit code 3"},
      {"deploy", "deploy", "manual", std::nullopt, "run it with --job deploy"},
  });
  EXPECT_EQ(table,
            "job     stage   status            duration\n"
            "build   build   success           500ms\n"
            "lint    test    failed (allowed)  12.3s     exit code 3\n"
            "deploy  deploy  manual            -         run it with --job deploy\n");
}

TEST(SummaryTest, Durations) {
  EXPECT_EQ(format_duration(0.0421), "42ms");
  EXPECT_EQ(format_duration(59.94), "59.9s");
  EXPECT_EQ(format_duration(125), "2m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
}

}  // namespace
}  // namespace gantry::agent
