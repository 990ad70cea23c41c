// What the client commands print for the controller's JSON (docs/api.md examples): tables,
// the pipeline view with its jobs, durations, and missing fields as "-".
#include "agent/remote/client_format.h"

#include <gtest/gtest.h>

namespace gantry::agent {
namespace {

TEST(ClientFormatTest, Durations) {
  EXPECT_EQ(format_duration(0.44), "440ms");
  EXPECT_EQ(format_duration(1.44), "1.44s");
  EXPECT_EQ(format_duration(12.4), "12.4s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(-1), "0ms");
}

TEST(ClientFormatTest, Projects) {
  Json list = Json::parse(R"([
    {"id": 1, "name": "demo", "repo_url": "file:///srv/git/demo.git", "default_branch": "main"},
    {"id": 2, "name": "tools", "repo_url": "/srv/git/tools.git", "default_branch": null}])");
  EXPECT_EQ(format_projects(list),
            "ID  NAME   BRANCH  REPOSITORY\n"
            "1   demo   main    file:///srv/git/demo.git\n"
            "2   tools  -       /srv/git/tools.git\n");
  EXPECT_EQ(format_projects(Json::array()), "ID  NAME  BRANCH  REPOSITORY\n");
}

TEST(ClientFormatTest, Pipelines) {
  Json list = Json::parse(R"([{"id": 7, "project": "demo", "ref": "main",
    "sha": "3f2c0d1e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d", "status": "running", "source": "api",
    "created_at": "2026-11-29T07:30:00Z"}])");
  EXPECT_EQ(format_pipelines(list),
            "ID  PROJECT  REF   SHA       STATUS   SOURCE  CREATED\n"
            "7   demo     main  3f2c0d1e  running  api     2026-11-29 07:30:00\n");
}

TEST(ClientFormatTest, PipelineShowsItsJobsWithStatusAndReason) {
  Json p = Json::parse(R"({"id": 7, "project": "demo", "ref": "v1.0", "tag": true,
    "sha": "3f2c0d1e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d", "source": "push", "status": "failed",
    "failure_reason": null, "created_at": "2026-11-29T07:30:00Z",
    "finished_at": "2026-11-29T07:31:02Z",
    "jobs": [
      {"id": 30, "name": "build", "stage": "build", "status": "success",
       "duration_seconds": 4.25, "agent": {"id": 3, "name": "builder-1"}},
      {"id": 31, "name": "test 1/2", "stage": "test", "status": "failed",
       "failure_reason": "script_failure", "allow_failure": false, "duration_seconds": 12.5,
       "agent": {"id": 3, "name": "builder-1"}},
      {"id": 32, "name": "lint", "stage": "test", "status": "failed", "allow_failure": true,
       "failure_reason": "script_failure", "agent": null},
      {"id": 33, "name": "deploy", "stage": "deploy", "status": "skipped"}]})");
  EXPECT_EQ(format_pipeline(p),
            "pipeline 7  failed\n"
            "project  demo\n"
            "ref      v1.0 (tag)\n"
            "commit   3f2c0d1e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d\n"
            "source   push\n"
            "created  2026-11-29 07:30:00, finished 2026-11-29 07:31:02\n"
            "\n"
            "ID  STAGE   NAME      STATUS            REASON          DURATION  AGENT\n"
            "30  build   build     success           -               4.25s     builder-1\n"
            "31  test    test 1/2  failed            script_failure  12.5s     builder-1\n"
            "32  test    lint      failed (allowed)  script_failure  -         -\n"
            "33  deploy  deploy    skipped           -               -         -\n");
}

TEST(ClientFormatTest, PipelineWithConfigErrorsListsThem) {
  Json p = Json::parse(R"({"id": 8, "status": "failed", "failure_reason": "config_error",
    "diagnostics": [".gitlab-ci.yml:2:3: error: job 'build': unknown keyword 'scirpt'"],
    "jobs": []})");
  std::string out = format_pipeline(p);
  EXPECT_NE(out.find("pipeline 8  failed (config_error)\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\n.gitlab-ci.yml:2:3: error: job 'build': unknown keyword 'scirpt'\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("STAGE"), std::string::npos);
}

TEST(ClientFormatTest, AgentsShowStateLabelsAndJobs) {
  Json list = Json::parse(R"([
    {"id": 3, "name": "builder-1", "labels": ["linux", "docker"], "paused": false,
     "online": true, "last_seen_at": "2026-11-29T07:30:00Z", "running_jobs": [31, 32]},
    {"id": 4, "name": "old", "labels": [], "paused": true, "online": true, "running_jobs": []},
    {"id": 5, "name": "gone", "labels": ["arm"], "paused": false, "online": false}])");
  EXPECT_EQ(format_agents(list),
            "ID  NAME       STATE    LABELS        JOBS  LAST SEEN\n"
            "3   builder-1  online   linux,docker  2     2026-11-29 07:30:00\n"
            "4   old        paused   -             0     -\n"
            "5   gone       offline  arm           -     -\n");
}

TEST(ClientFormatTest, JobAsKeyValueLines) {
  Json j = Json::parse(R"({"id": 31, "pipeline_id": 7, "project": "demo", "name": "test",
    "stage": "test", "status": "failed", "failure_reason": "agent_lost", "exit_code": null,
    "when": "on_success", "attempt": 2, "tags": ["linux"], "needs": null})");
  std::string out = format_job(j);
  EXPECT_NE(out.find("job:            31\n"), std::string::npos) << out;
  EXPECT_NE(out.find("failure reason: agent_lost\n"), std::string::npos) << out;
  EXPECT_NE(out.find("exit code:      -\n"), std::string::npos) << out;
  EXPECT_NE(out.find("tags:           linux\n"), std::string::npos) << out;
  EXPECT_NE(out.find("needs:          -\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("scheduled at"), std::string::npos) << "only delayed jobs have one";
}

TEST(ClientFormatTest, ScheduledJobSaysWhenItBecomesPending) {
  Json j = Json::parse(R"({"id": 32, "name": "deploy", "status": "scheduled", "when": "delayed",
    "scheduled_at": "2026-11-29T18:30:00Z", "started_at": null})");
  std::string out = format_job(j);
  EXPECT_NE(out.find("status:         scheduled\n"), std::string::npos) << out;
  EXPECT_NE(out.find("scheduled at:   2026-11-29 18:30:00\n"), std::string::npos) << out;
  EXPECT_LT(out.find("scheduled at"), out.find("started:")) << out;
}

}  // namespace
}  // namespace gantry::agent
