// Script rendering: GitLab's echo of commands, quoting, stop-on-first-error, and the rendered
// script run by the host's sh to prove it behaves (sh is a test-time dependency of every Debian).
#include <gtest/gtest.h>

#include "agent/job_script.h"
#include "common/file.h"
#include "common/subprocess.h"
#include "tests/support/temp_dir.h"

namespace gantry::agent {
namespace {

TEST(JobScriptTest, EchoLineLikeGitLab) {
  EXPECT_EQ(echo_line("echo hi"), "$ echo hi");
  EXPECT_EQ(echo_line("echo one\necho two\n"), "$ echo one # collapsed multi-line command");
  EXPECT_EQ(echo_line("echo block\n"), "$ echo block");
}

TEST(JobScriptTest, ShellQuoteSurvivesSingleQuotes) {
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
}

TEST(JobScriptTest, RenderedScriptEchoesAndStopsAtFirstFailure) {
  testing::TempDir tmp;
  std::string script = render_script(
      {"echo \"first $GREETING\"", "echo 'it'\\''s'", "false", "echo never"}, tmp.path());
  ASSERT_TRUE(write_file(tmp.file("s.sh"), script).ok());
  SubprocessOptions opts;
  opts.merge_stderr = true;
  opts.env = std::map<std::string, std::string>{{"GREETING", "hello"}, {"PATH", "/usr/bin:/bin"}};
  auto r = run_subprocess({"/bin/sh", tmp.file("s.sh")}, opts);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->exit_code, 1);
  std::string g(kAnsiBoldGreen), z(kAnsiReset);
  EXPECT_EQ(r->out, g + "$ echo \"first $GREETING\"" + z + "\nfirst hello\n" + g +
                        "$ echo 'it'\\''s'" + z + "\nit's\n" + g + "$ false" + z + "\n");
}

TEST(JobScriptTest, PipefailMakesAFailingPipelineFail) {
  testing::TempDir tmp;
  ASSERT_TRUE(
      write_file(tmp.file("s.sh"), render_script({"false | cat", "echo after"}, tmp.path())).ok());
  auto r = run_subprocess(shell_command(tmp.file("s.sh")));
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->exit_code, 0);  // bash (or a sh with pipefail) stops at the pipeline
  EXPECT_EQ(r->out.find("after\n"), std::string::npos);
}

TEST(JobScriptTest, ExitCodeOfTheFailingCommandIsTheScriptsExitCode) {
  testing::TempDir tmp;
  ASSERT_TRUE(write_file(tmp.file("s.sh"), render_script({"true", "exit 42"}, tmp.path())).ok());
  auto r = run_subprocess(shell_command(tmp.file("s.sh")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 42);
}

TEST(JobScriptTest, MultiLineCommandRunsWhole) {
  testing::TempDir tmp;
  ASSERT_TRUE(write_file(tmp.file("s.sh"),
                         render_script({"for i in 1 2; do\n  echo n$i\ndone\n"}, tmp.path())).ok());
  auto r = run_subprocess(shell_command(tmp.file("s.sh")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_NE(r->out.find("$ for i in 1 2; do # collapsed multi-line command"), std::string::npos);
  EXPECT_NE(r->out.find("n1\nn2\n"), std::string::npos);
}

}  // namespace
}  // namespace gantry::agent
