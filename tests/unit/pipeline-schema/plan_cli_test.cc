// `gantry plan` output formats other than JSON, and its option errors, through the real binary.
#include <gtest/gtest.h>

#include "common/file.h"
#include "common/subprocess.h"
#include "tests/support/temp_dir.h"

namespace gantry::schema {
namespace {

class PlanCliTest : public ::testing::Test {
 protected:
  PlanCliTest() {
    const char* yml =
        "build:\n"
        "  stage: build\n"
        "  image: alpine:$V\n"
        "  variables: {V: '3.19'}\n"
        "  script: make\n"
        "test:\n"
        "  needs:\n"
        "    - job: build\n"
        "      artifacts: false\n"
        "  when: manual\n"
        "  script: make test\n";
    EXPECT_TRUE(write_file(dir_.file(".gitlab-ci.yml"), yml).ok());
  }

  SubprocessResult plan(std::vector<std::string> extra) {
    std::vector<std::string> argv = {GANTRY_BIN, "plan", "--project-dir", dir_.path()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = run_subprocess(argv);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : SubprocessResult{};
  }

  testing::TempDir dir_;
};

TEST_F(PlanCliTest, TextShowsStagesJobsAndExpandedImage) {
  auto r = plan({});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pipeline for branch 'main' (source push): 2 stages, 2 jobs"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("image: alpine:3.19"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("when: manual, allow_failure"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("needs: build (no artifacts)"), std::string::npos) << r.out;
}

TEST_F(PlanCliTest, MermaidDrawsStagesAndNeeds) {
  auto r = plan({"--format", "mermaid"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("flowchart LR\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("subgraph stage0[\"build\"]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("job1[\"test (manual)\"]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("job0 -.-> job1"), std::string::npos) << r.out;
}

TEST_F(PlanCliTest, RejectsBadOptionsNamingThem) {
  auto r = plan({"--format", "yaml"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unknown --format 'yaml'"), std::string::npos) << r.err;
  r = plan({"--branch", "a", "--tag", "b"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not both"), std::string::npos) << r.err;
  r = plan({"--source", "cron"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unknown pipeline source 'cron'"), std::string::npos) << r.err;
}

TEST_F(PlanCliTest, MissingPipelineFileIsAnError) {
  testing::TempDir empty;
  auto r = run_subprocess({GANTRY_BIN, "plan", "--project-dir", empty.path()});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->exit_code, 0);
  EXPECT_NE(r->err.find(".gitlab-ci.yml"), std::string::npos) << r->err;
}

}  // namespace
}  // namespace gantry::schema
