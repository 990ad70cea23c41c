// `gantry run` refusing bad input before anything runs: a broken pipeline file (file:line:col),
// an unknown --job, a bad --network or --secret. Each exits non-zero with a message that names
// what is wrong, and leaves nothing under the state root. No root needed: nothing starts.
#include <gtest/gtest.h>

#include "common/file.h"
#include "common/subprocess.h"
#include "tests/support/temp_dir.h"

namespace gantry {
namespace {

class RunCommandTest : public ::testing::Test {
 protected:
  SubprocessResult run(const std::vector<std::string>& args) {
    std::vector<std::string> argv{GANTRY_BIN, "--root", root_.file("state"), "run"};
    argv.insert(argv.end(), args.begin(), args.end());
    SubprocessOptions opts;
    opts.cwd = project_.path();
    auto r = run_subprocess(argv, opts);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : SubprocessResult{};
  }
  void write_pipeline(const std::string& text) {
    ASSERT_TRUE(write_file(project_.file(".gitlab-ci.yml"), text).ok());
  }
  void expect_nothing_made() { EXPECT_FALSE(path_exists(root_.file("state"))); }

  testing::TempDir project_;
  testing::TempDir root_;
};

TEST_F(RunCommandTest, PipelineErrorsAreShownWithTheirPlaceAndNothingRuns) {
  write_pipeline("build:\n  stage: build\n  scirpt: make\n");
  auto r = run({});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(".gitlab-ci.yml:3:3: error: job 'build': unknown keyword 'scirpt'"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("gantry: run: 2 error(s)"), std::string::npos) << r.err;
  expect_nothing_made();
}

TEST_F(RunCommandTest, UnknownJobIsNamedWithTheJobsThereAre) {
  write_pipeline("build:\n  script: make\ntest:\n  script: make test\n");
  auto r = run({"--job", "tset"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "gantry: run: --job 'tset': no such job in this pipeline for this trigger (jobs: "
            "'build', 'test')\n");
  expect_nothing_made();
}

TEST_F(RunCommandTest, BadNetworkAndSecretAreRefused) {
  write_pipeline("build:\n  script: make\n");
  auto net = run({"--network", "bridged"});
  EXPECT_EQ(net.exit_code, 2);
  EXPECT_NE(net.err.find("run: --network"), std::string::npos) << net.err;
  EXPECT_NE(net.err.find("'bridged'"), std::string::npos) << net.err;
  auto secret = run({"--secret", "TOKEN"});
  EXPECT_EQ(secret.exit_code, 2);
  EXPECT_NE(secret.err.find("run: --secret"), std::string::npos) << secret.err;
  expect_nothing_made();
}

TEST_F(RunCommandTest, AMissingFileIsAnError) {
  auto r = run({"nothere.yml"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("nothere.yml"), std::string::npos) << r.err;
  expect_nothing_made();
}

TEST_F(RunCommandTest, APipelineThatWorkflowRulesStopIsNotAnError) {
  write_pipeline(
      "workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\nbuild:\n  script: make\n");
  auto r = run({"--branch", "main"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("gantry: run: no pipeline"), std::string::npos) << r.err;
  expect_nothing_made();
}

}  // namespace
}  // namespace gantry
