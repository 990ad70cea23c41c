// JobSpec / JobResult wire forms: round trips keep every field, and bad input names the field.
#include <gtest/gtest.h>

#include "pipeline-schema/job_spec.h"

namespace gantry::schema {
namespace {

JobSpec sample_spec() {
  JobSpec s;
  s.job_id = 42;
  s.attempt = 2;
  s.pipeline_id = 7;
  s.project_name = "app";
  s.project_path = "group/app";
  s.commit_sha = std::string(40, 'a');
  s.ref = "main";
  s.job.name = "test 1/2";
  s.job.job_name = "test";
  s.job.stage = "test";
  s.job.script = {"make test", "echo done"};
  s.job.after_script = {"echo after"};
  s.job.variables.set("CI_JOB_NAME", "test 1/2");
  s.job.variables.set("RAW", "$HOME", false);
  s.job.timeout_seconds = 600;
  Artifacts a;
  a.paths = {"out/**/*.o"};
  a.when = When::kAlways;
  s.job.artifacts = a;
  Cache c;
  c.key_files = {"Cargo.lock"};
  c.paths = {".cache/"};
  c.policy = "pull";
  s.job.cache.push_back(c);
  s.job.image = Image{"busybox:1", std::nullopt, {}, std::nullopt, std::nullopt, {}};
  s.dependencies = {{"build", "build-1.tar"}, {"lint", ""}};
  s.masked_values = {"hunter2"};
  s.default_image = "debian:12";
  s.default_timeout_seconds = 1800;
  s.services_wait_timeout_seconds = 45;
  return s;
}

TEST(JobSpecJsonTest, RoundTripKeepsEveryField) {
  JobSpec s = sample_spec();
  auto back = job_spec_from_json(job_spec_to_json(s));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->job_id, 42);
  EXPECT_EQ(back->attempt, 2);
  EXPECT_EQ(back->pipeline_id, 7);
  EXPECT_EQ(back->project_name, "app");
  EXPECT_EQ(back->project_path, "group/app");
  EXPECT_EQ(back->commit_sha, s.commit_sha);
  EXPECT_EQ(back->ref, "main");
  EXPECT_EQ(back->job.name, "test 1/2");
  EXPECT_EQ(back->job.script, s.job.script);
  EXPECT_EQ(back->job.after_script, s.job.after_script);
  ASSERT_NE(back->job.variables.find("RAW"), nullptr);
  EXPECT_FALSE(back->job.variables.find("RAW")->expand);
  EXPECT_EQ(back->job.timeout_seconds, 600);
  ASSERT_TRUE(back->job.artifacts.has_value());
  EXPECT_EQ(back->job.artifacts->paths, s.job.artifacts->paths);
  EXPECT_EQ(back->job.artifacts->when, When::kAlways);
  ASSERT_EQ(back->job.cache.size(), 1u);
  EXPECT_EQ(back->job.cache[0].key_files, std::vector<std::string>{"Cargo.lock"});
  EXPECT_EQ(back->job.cache[0].policy, "pull");
  ASSERT_TRUE(back->job.image.has_value());
  EXPECT_EQ(back->job.image->name, "busybox:1");
  EXPECT_EQ(back->dependencies, s.dependencies);
  EXPECT_EQ(back->masked_values, s.masked_values);
  EXPECT_EQ(back->default_image, "debian:12");
  EXPECT_EQ(back->default_timeout_seconds, 1800);
  EXPECT_EQ(back->services_wait_timeout_seconds, 45);
  // A second trip is a fixed point.
  EXPECT_EQ(job_spec_to_json(*back), job_spec_to_json(s));
}

TEST(JobSpecJsonTest, MissingFieldIsNamed) {
  Json j = job_spec_to_json(sample_spec());
  j.erase("pipeline_id");
  auto r = job_spec_from_json(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "job spec: field 'pipeline_id': missing");
}

TEST(JobSpecJsonTest, WrongTypeIsNamed) {
  Json j = job_spec_to_json(sample_spec());
  j["masked_values"] = "hunter2";
  auto r = job_spec_from_json(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("field 'masked_values': wrong type (string)"),
            std::string::npos)
      << r.error().message();
}

TEST(JobSpecJsonTest, BadJobNamesTheNestedField) {
  Json j = job_spec_to_json(sample_spec());
  j["job"].erase("stage");
  auto r = job_spec_from_json(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("field 'job'"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("stage"), std::string::npos) << r.error().message();
}

TEST(JobSpecJsonTest, BadDependencyEntryNamesItsIndex) {
  Json j = job_spec_to_json(sample_spec());
  j["dependencies"][1].erase("job");
  auto r = job_spec_from_json(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "job spec: dependencies[1]: field 'job': missing");
}

TEST(JobResultJsonTest, RoundTrip) {
  JobResult r;
  r.status = JobStatus::kFailed;
  r.failure_reason = FailureReason::kJobExecutionTimeout;
  r.exit_code = 137;
  r.message = "execution took longer than 1s";
  r.started_at = "2026-01-01T10:00:00.000Z";
  r.finished_at = "2026-01-01T10:00:01.500Z";
  r.duration_seconds = 1.5;
  r.log_bytes = 123;
  r.log_sha256 = std::string(64, 'f');
  r.artifacts_locator = "job-1.tar";
  r.coverage = 87.5;
  auto back = job_result_from_json(job_result_to_json(r));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, r);

  JobResult ok;
  ok.status = JobStatus::kSuccess;
  ok.failure_reason = FailureReason::kNone;
  auto back2 = job_result_from_json(job_result_to_json(ok));
  ASSERT_TRUE(back2.ok()) << back2.error().message();
  EXPECT_EQ(*back2, ok);
  EXPECT_FALSE(back2->exit_code.has_value());
}

TEST(JobResultJsonTest, UnknownStatusOrReasonIsNamed) {
  Json j = job_result_to_json(JobResult{});
  j["status"] = "exploded";
  auto r = job_result_from_json(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("field 'status': unknown value 'exploded'"),
            std::string::npos);
  j["status"] = "failed";
  j["failure_reason"] = "bad_luck";
  r = job_result_from_json(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("field 'failure_reason'"), std::string::npos);
}

TEST(JobResultJsonTest, FailureReasonNamesAreGitLabs) {
  EXPECT_EQ(failure_reason_name(FailureReason::kScriptFailure), "script_failure");
  EXPECT_EQ(failure_reason_name(FailureReason::kJobExecutionTimeout), "job_execution_timeout");
  EXPECT_EQ(failure_reason_name(FailureReason::kRunnerSystemFailure), "runner_system_failure");
  EXPECT_EQ(failure_reason_name(FailureReason::kImagePullFailure), "image_pull_failure");
  EXPECT_EQ(parse_failure_reason("missing_dependency_failure"),
            FailureReason::kMissingDependencyFailure);
  EXPECT_EQ(parse_job_status("canceled"), JobStatus::kCanceled);
}

}  // namespace
}  // namespace gantry::schema
