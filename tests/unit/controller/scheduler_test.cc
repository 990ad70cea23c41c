// The scheduler's pure decisions against GitLab's documented stage/needs/when semantics.
#include "controller/scheduler.h"

#include <gtest/gtest.h>

namespace gantry::controller {
namespace {

using schema::When;

SchedJob job(std::string name, int stage, JobState state = JobState::kCreated,
             When when = When::kOnSuccess) {
  SchedJob j;
  j.name = std::move(name);
  j.stage = stage;
  j.state = state;
  j.when = when;
  return j;
}

std::map<std::string, JobState> after(std::vector<SchedJob> jobs) {
  for (const auto& t : process_pipeline(jobs)) jobs[t.index].state = t.to;
  std::map<std::string, JobState> out;
  for (const auto& j : jobs) out[j.name] = j.state;
  return out;
}

TEST(SchedulerTest, FirstStageBecomesPendingAndLaterStagesWait) {
  auto s = after({job("build", 0), job("test", 1), job("deploy", 2)});
  EXPECT_EQ(s["build"], JobState::kPending);
  EXPECT_EQ(s["test"], JobState::kCreated);
  EXPECT_EQ(s["deploy"], JobState::kCreated);
}

TEST(SchedulerTest, NextStageStartsOnlyWhenTheWholeStageSucceeded) {
  auto s = after({job("a", 0, JobState::kSuccess), job("b", 0, JobState::kRunning), job("t", 1)});
  EXPECT_EQ(s["t"], JobState::kCreated);
  s = after({job("a", 0, JobState::kSuccess), job("b", 0, JobState::kSuccess), job("t", 1)});
  EXPECT_EQ(s["t"], JobState::kPending);
}

TEST(SchedulerTest, FailureSkipsOnSuccessJobsAndRunsOnFailureAndAlwaysJobs) {
  auto s = after({job("build", 0, JobState::kFailed), job("test", 1),
                  job("cleanup", 2, JobState::kCreated, When::kAlways),
                  job("notify", 2, JobState::kCreated, When::kOnFailure)});
  EXPECT_EQ(s["test"], JobState::kSkipped);
  EXPECT_EQ(s["cleanup"], JobState::kPending);
  EXPECT_EQ(s["notify"], JobState::kPending);
}

TEST(SchedulerTest, OnFailureJobIsSkippedWhenEverythingSucceeded) {
  auto s = after({job("build", 0, JobState::kSuccess),
                  job("notify", 1, JobState::kCreated, When::kOnFailure)});
  EXPECT_EQ(s["notify"], JobState::kSkipped);
}

TEST(SchedulerTest, AllowedFailureCountsAsSuccess) {
  auto lint = job("lint", 0, JobState::kFailed);
  lint.allow_failure = true;
  auto s = after({lint, job("test", 1), job("notify", 1, JobState::kCreated, When::kOnFailure)});
  EXPECT_EQ(s["test"], JobState::kPending);
  EXPECT_EQ(s["notify"], JobState::kSkipped);
}

TEST(SchedulerTest, NeedsStartAJobBeforeItsStageIsDone) {
  auto test = job("test", 1);
  test.needs = std::vector<std::string>{"build-a"};
  auto s = after({job("build-a", 0, JobState::kSuccess), job("build-b", 0, JobState::kRunning),
                  test});
  EXPECT_EQ(s["test"], JobState::kPending);
}

TEST(SchedulerTest, EmptyNeedsStartAtOnce) {
  auto lint = job("lint", 2);
  lint.needs = std::vector<std::string>{};
  auto s = after({job("build", 0), lint});
  EXPECT_EQ(s["lint"], JobState::kPending);
}

TEST(SchedulerTest, BlockingManualJobHoldsLaterStagesAndTheFlowCascades) {
  auto s = after({job("build", 0, JobState::kSuccess),
                  job("approve", 1, JobState::kCreated, When::kManual), job("deploy", 2)});
  EXPECT_EQ(s["approve"], JobState::kManual);
  EXPECT_EQ(s["deploy"], JobState::kCreated);
  std::vector<SchedJob> jobs = {job("build", 0, JobState::kSuccess),
                                job("approve", 1, JobState::kManual, When::kManual),
                                job("deploy", 2)};
  EXPECT_EQ(pipeline_state(jobs), JobState::kManual);
}

TEST(SchedulerTest, DelayedJobIsScheduledAndHoldsLaterStagesUntilItRuns) {
  auto s = after({job("build", 0, JobState::kSuccess),
                  job("later", 1, JobState::kCreated, When::kDelayed), job("deploy", 2)});
  EXPECT_EQ(s["later"], JobState::kScheduled);
  EXPECT_EQ(s["deploy"], JobState::kCreated);
  s = after({job("build", 0, JobState::kFailed),
             job("later", 1, JobState::kCreated, When::kDelayed)});
  EXPECT_EQ(s["later"], JobState::kSkipped);
  EXPECT_EQ(pipeline_state({job("build", 0, JobState::kSuccess),
                            job("later", 1, JobState::kScheduled), job("deploy", 2)}),
            JobState::kScheduled);
  EXPECT_EQ(parse_job_state("scheduled"), JobState::kScheduled);
  EXPECT_FALSE(is_finished(JobState::kScheduled));
}

TEST(SchedulerTest, OptionalManualJobDoesNotBlock) {
  auto approve = job("approve", 1, JobState::kManual, When::kManual);
  approve.allow_failure = true;
  std::vector<SchedJob> jobs = {job("build", 0, JobState::kSuccess), approve, job("deploy", 2)};
  auto s = after(jobs);
  EXPECT_EQ(s["deploy"], JobState::kPending);
}

TEST(SchedulerTest, SkipsCascadeThroughStagesInOnePass) {
  auto s = after({job("a", 0, JobState::kFailed), job("b", 1), job("c", 2),
                  job("d", 3, JobState::kCreated, When::kAlways)});
  EXPECT_EQ(s["b"], JobState::kSkipped);
  EXPECT_EQ(s["c"], JobState::kSkipped);
  EXPECT_EQ(s["d"], JobState::kPending);
}

TEST(SchedulerTest, PipelineStatusFollowsGitLab) {
  EXPECT_EQ(pipeline_state({job("a", 0, JobState::kPending)}), JobState::kPending);
  EXPECT_EQ(pipeline_state({job("a", 0, JobState::kRunning), job("b", 1)}), JobState::kRunning);
  EXPECT_EQ(pipeline_state({job("a", 0, JobState::kSuccess), job("b", 1, JobState::kPending)}),
            JobState::kRunning);
  EXPECT_EQ(pipeline_state({job("a", 0, JobState::kSuccess), job("b", 1, JobState::kSkipped)}),
            JobState::kSuccess);
  EXPECT_EQ(pipeline_state({job("a", 0, JobState::kFailed), job("b", 1, JobState::kSkipped)}),
            JobState::kFailed);
  EXPECT_EQ(pipeline_state({job("a", 0, JobState::kCanceled), job("b", 0, JobState::kSuccess)}),
            JobState::kCanceled);
  auto allowed = job("a", 0, JobState::kFailed);
  allowed.allow_failure = true;
  EXPECT_EQ(pipeline_state({allowed, job("b", 1, JobState::kSuccess)}), JobState::kSuccess);
}

TEST(SchedulerTest, RetryFollowsMaxWhenAndExitCodes) {
  schema::Retry r;
  r.max = 2;
  EXPECT_TRUE(should_retry(r, 0, "script_failure", 1));
  EXPECT_TRUE(should_retry(r, 1, "agent_lost", std::nullopt));
  EXPECT_FALSE(should_retry(r, 2, "script_failure", 1));
  EXPECT_FALSE(should_retry(r, 0, "canceled", std::nullopt));
  r.when = {"runner_system_failure"};
  EXPECT_FALSE(should_retry(r, 0, "script_failure", 1));
  EXPECT_TRUE(should_retry(r, 0, "agent_lost", std::nullopt));
  r.when = {"stuck_or_timeout_failure"};
  EXPECT_TRUE(should_retry(r, 0, "job_execution_timeout", std::nullopt));
  r.when.clear();
  r.exit_codes = {137};
  EXPECT_FALSE(should_retry(r, 0, "script_failure", 1));
  EXPECT_TRUE(should_retry(r, 0, "script_failure", 137));
}

TEST(SchedulerTest, PickMatchesTagsAgainstLabels) {
  std::vector<Candidate> pending = {{1, 1, 100, {"gpu"}, ""}, {2, 1, 200, {"linux"}, ""}};
  EXPECT_EQ(pick_job(pending, {"linux", "docker"}, {}, {}), 1u);
  EXPECT_EQ(pick_job(pending, {"gpu", "linux"}, {}, {}), 0u);
  EXPECT_EQ(pick_job(pending, {"arm"}, {}, {}), std::nullopt);
  std::vector<Candidate> untagged = {{3, 1, 100, {}, ""}};
  EXPECT_EQ(pick_job(untagged, {}, {}, {}), 0u);
}

TEST(SchedulerTest, PickPrefersTheProjectWithFewerRunningJobsThenTheOldest) {
  std::vector<Candidate> pending = {{1, 7, 100, {}, ""}, {2, 7, 90, {}, ""}, {3, 8, 300, {}, ""}};
  EXPECT_EQ(pick_job(pending, {}, {}, {}), 1u);                     // oldest
  EXPECT_EQ(pick_job(pending, {}, {}, {{7, 3}}), 2u);               // project 8 is idle
  EXPECT_EQ(pick_job(pending, {}, {}, {{7, 1}, {8, 1}}), 1u);       // tie: oldest
}

TEST(SchedulerTest, PickSkipsABusyResourceGroup) {
  std::vector<Candidate> pending = {{1, 1, 100, {}, "1:prod"}, {2, 1, 200, {}, ""}};
  EXPECT_EQ(pick_job(pending, {}, {"1:prod"}, {}), 1u);
  EXPECT_EQ(pick_job(pending, {}, {}, {}), 0u);
}

}  // namespace
}  // namespace gantry::controller
