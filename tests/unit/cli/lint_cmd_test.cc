// `gantry lint` as a user runs it: exit codes, where diagnostics and the summary go, the file
// lookup, and paths shown relative to the current directory.
#include <gtest/gtest.h>

#include "common/file.h"
#include "common/subprocess.h"
#include "tests/support/temp_dir.h"

namespace gantry {
namespace {

SubprocessResult lint(const std::vector<std::string>& args, const std::string& cwd) {
  std::vector<std::string> argv{GANTRY_BIN, "lint"};
  argv.insert(argv.end(), args.begin(), args.end());
  SubprocessOptions opts;
  opts.cwd = cwd;
  auto r = run_subprocess(argv, opts);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : SubprocessResult{};
}

TEST(LintCommandTest, ValidPipelineExitsZeroWithSummary) {
  testing::TempDir dir;
  ASSERT_TRUE(write_file(dir.file(".gitlab-ci.yml"), "build:\n  script: make\n").ok());
  auto r = lint({}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ".gitlab-ci.yml: valid, 1 job, 0 warnings\n");
  EXPECT_EQ(r.err, "");
}

TEST(LintCommandTest, PrefersGantryFileOverGitLabFile) {
  testing::TempDir dir;
  ASSERT_TRUE(write_file(dir.file(".gitlab-ci.yml"), "build: {script: make}\n").ok());
  ASSERT_TRUE(write_file(dir.file(".gantry-ci.yml"), "a: {script: x}\nb: {script: y}\n").ok());
  auto r = lint({}, dir.path());
  EXPECT_EQ(r.out, ".gantry-ci.yml: valid, 2 jobs, 0 warnings\n");
}

TEST(LintCommandTest, ErrorsGoToStderrAndExitOne) {
  testing::TempDir dir;
  ASSERT_TRUE(write_file(dir.file("ci.yml"), "build:\n  scirpt: make\n").ok());
  auto r = lint({"ci.yml"}, dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(
      r.err,
      "ci.yml:1:1: error: job 'build' has no 'script' (every job needs 'script', or 'trigger')\n"
      "ci.yml:2:3: error: job 'build': unknown keyword 'scirpt' (did you mean 'script'?)\n");
  EXPECT_EQ(r.out, "ci.yml: 2 errors, 0 warnings\n");
}

TEST(LintCommandTest, WarningsAloneDoNotFail) {
  testing::TempDir dir;
  ASSERT_TRUE(write_file(dir.file(".gitlab-ci.yml"),
                         "rel:\n  script: x\n  release: {tag_name: v1, description: d}\n").ok());
  auto r = lint({}, dir.path());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err,
            ".gitlab-ci.yml:3:3: warning: job 'rel': 'release' is not executed by gantry; it is "
            "ignored\n");
  EXPECT_EQ(r.out, ".gitlab-ci.yml: valid, 1 job, 1 warning\n");
}

TEST(LintCommandTest, MissingFileIsAClearError) {
  testing::TempDir dir;
  auto none = lint({}, dir.path());
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("neither '.gantry-ci.yml' nor '.gitlab-ci.yml' exists"),
            std::string::npos)
      << none.err;
  auto named = lint({"nope.yml"}, dir.path());
  EXPECT_EQ(named.exit_code, 1);
  EXPECT_NE(named.err.find("nope.yml"), std::string::npos) << named.err;
}

TEST(LintCommandTest, FileOutsideTheCurrentDirectoryUsesItsDirectoryAsProject) {
  testing::TempDir dir;
  ASSERT_TRUE(make_dirs(dir.file("repo/ci")).ok());
  ASSERT_TRUE(write_file(dir.file("repo/ci/jobs.yml"), "test:\n  stage: tset\n  script: x\n").ok());
  ASSERT_TRUE(write_file(dir.file("repo/.gitlab-ci.yml"), "include: ci/jobs.yml\n").ok());
  auto r = lint({dir.file("repo/.gitlab-ci.yml")}, "/");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, dir.file("repo/ci/jobs.yml") +
                       ":2:10: error: job 'test': stage 'tset' does not exist (did you mean "
                       "'test'?); the stages are .pre, build, test, deploy, .post\n");
}

}  // namespace
}  // namespace gantry
