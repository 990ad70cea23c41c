// The Scheduler against GitLab's documented pipeline semantics: stage order, needs (DAG,
// `needs: []`), every `when`, allow_failure (incl. exit_codes), retry (max, when, exit_codes),
// manual and delayed jobs, --job selections and cancellation. Outcomes are scripted per job;
// nothing runs.
#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "agent/scheduler.h"

namespace gantry::agent {
namespace {

using Kind = AttemptOutcome::Kind;
using schema::When;

AttemptOutcome ok() { return {Kind::kSuccess, "", 0}; }
AttemptOutcome fail(int code = 1, std::string reason = "script_failure") {
  return {Kind::kFailed, std::move(reason), code};
}
AttemptOutcome timeout() { return {Kind::kFailed, "job_execution_timeout", std::nullopt}; }

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerTest() { plan_.stages = {"build", "test", "deploy"}; }

  schema::PlannedJob& add(std::string name, std::string stage, When when = When::kOnSuccess) {
    schema::PlannedJob j;
    j.name = name;
    j.job_name = name;
    j.stage = std::move(stage);
    j.when = when;
    j.script = {"true"};
    plan_.jobs.push_back(std::move(j));
    return plan_.jobs.back();
  }

  static void needs(schema::PlannedJob& j, std::vector<std::string> names) {
    j.needs.emplace();
    for (auto& n : names) j.needs->push_back({n, true});
  }

  // Runs everything to the end, one job at a time in the order the scheduler makes them
  // pending. Each attempt takes the next scripted outcome of its job (default: success).
  // Returns the attempts in start order.
  std::vector<std::string> run_all(Scheduler& s) {
    std::vector<std::string> order;
    std::deque<size_t> queue;
    for (size_t i : s.advance()) queue.push_back(i);
    while (!queue.empty()) {
      size_t i = queue.front();
      queue.pop_front();
      s.mark_running(i);
      const std::string& name = s.jobs()[i].job->name;
      order.push_back(name);
      AttemptOutcome o = ok();
      if (auto& q = outcomes_[name]; !q.empty()) {
        o = q.front();
        q.pop_front();
      }
      if (s.record(i, o)) queue.push_back(i);
      for (size_t n : s.advance()) queue.push_back(n);
    }
    EXPECT_TRUE(s.finished());
    return order;
  }

  JobState state(const Scheduler& s, const std::string& name) {
    auto i = s.index_of(name);
    EXPECT_TRUE(i.has_value()) << name;
    return s.jobs()[*i].state;
  }

  std::vector<std::string> names(const Scheduler& s, const std::vector<size_t>& idx) {
    std::vector<std::string> out;
    for (size_t i : idx) out.push_back(s.jobs()[i].job->name);
    return out;
  }

  schema::Plan plan_;
  std::map<std::string, std::deque<AttemptOutcome>> outcomes_;
};

using V = std::vector<std::string>;

TEST_F(SchedulerTest, StagesRunInOrderAndAJobStartsOnlyWhenEarlierStagesAreDone) {
  add("compile", "build");
  add("unit", "test");
  add("lint", "test");
  add("ship", "deploy");
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(names(s, s.advance()), V{"compile"});
  EXPECT_TRUE(s.advance().empty());
  s.mark_running(0);
  EXPECT_TRUE(s.advance().empty());
  EXPECT_FALSE(s.finished());
  s.record(0, ok());
  EXPECT_EQ(names(s, s.advance()), (V{"unit", "lint"}));
  s.mark_running(1);
  s.mark_running(2);
  s.record(1, ok());
  EXPECT_TRUE(s.advance().empty()) << "ship must wait for lint";
  s.record(2, ok());
  EXPECT_EQ(names(s, s.advance()), V{"ship"});
  s.mark_running(3);
  s.record(3, ok());
  EXPECT_TRUE(s.advance().empty());
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(s.status(), PipelineStatus::kSuccess);
  EXPECT_FALSE(s.has_warnings());
}

TEST_F(SchedulerTest, AFailureSkipsLaterOnSuccessJobsOnlyOnceItsStageIsComplete) {
  add("a", "build");
  add("b", "build");
  add("unit", "test");
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(s.advance().size(), 2u);
  s.mark_running(0);
  s.mark_running(1);
  s.record(0, fail());
  EXPECT_TRUE(s.advance().empty());
  EXPECT_EQ(state(s, "unit"), JobState::kCreated) << "b still runs: the stage is not complete";
  s.record(1, ok());
  EXPECT_TRUE(s.advance().empty());
  EXPECT_EQ(state(s, "unit"), JobState::kSkipped);
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(s.status(), PipelineStatus::kFailed);
}

TEST_F(SchedulerTest, OnFailureRunsOnlyAfterAFailureAndAlwaysRunsEitherWay) {
  add("compile", "build");
  add("report", "test", When::kOnFailure);
  add("cleanup", "deploy", When::kAlways);
  {
    Scheduler s(plan_, std::nullopt);
    EXPECT_EQ(run_all(s), (V{"compile", "cleanup"}));
    EXPECT_EQ(state(s, "report"), JobState::kSkipped);
    EXPECT_EQ(s.status(), PipelineStatus::kSuccess);
  }
  outcomes_["compile"] = {fail()};
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(run_all(s), (V{"compile", "report", "cleanup"}));
  EXPECT_EQ(s.status(), PipelineStatus::kFailed);
}

TEST_F(SchedulerTest, AnAllowedFailureDoesNotCountAsAFailure) {
  add("flaky", "build").allow_failure = true;
  add("unit", "test");
  add("report", "test", When::kOnFailure);
  outcomes_["flaky"] = {fail()};
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(run_all(s), (V{"flaky", "unit"}));
  EXPECT_EQ(state(s, "flaky"), JobState::kFailed);
  EXPECT_TRUE(s.jobs()[0].allowed_failure);
  EXPECT_EQ(state(s, "report"), JobState::kSkipped);
  EXPECT_EQ(s.status(), PipelineStatus::kSuccess);
  EXPECT_TRUE(s.has_warnings());
}

TEST_F(SchedulerTest, AllowFailureExitCodesAllowOnlyThoseCodes) {
  add("lint", "build").allow_failure_exit_codes = {137, 3};
  add("unit", "test");
  outcomes_["lint"] = {fail(3)};
  {
    Scheduler s(plan_, std::nullopt);
    EXPECT_EQ(run_all(s), (V{"lint", "unit"}));
    EXPECT_EQ(s.status(), PipelineStatus::kSuccess);
    EXPECT_TRUE(s.has_warnings());
  }
  outcomes_["lint"] = {fail(1)};
  {
    Scheduler s(plan_, std::nullopt);
    EXPECT_EQ(run_all(s), V{"lint"});
    EXPECT_FALSE(s.jobs()[0].allowed_failure);
    EXPECT_EQ(s.status(), PipelineStatus::kFailed);
  }
  outcomes_["lint"] = {timeout()};  // no exit code: not an allowed code
  Scheduler s(plan_, std::nullopt);
  run_all(s);
  EXPECT_EQ(s.status(), PipelineStatus::kFailed);
}

TEST_F(SchedulerTest, NeedsStartAJobAsSoonAsItsNeedsAreDoneIgnoringStages) {
  add("fast", "build");
  add("slow", "build");
  needs(add("unit", "test"), {"fast"});
  add("e2e", "test");
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(names(s, s.advance()), (V{"fast", "slow"}));
  s.mark_running(0);
  s.mark_running(1);
  s.record(0, ok());
  EXPECT_EQ(names(s, s.advance()), V{"unit"});
  s.record(1, ok());
  EXPECT_EQ(names(s, s.advance()), V{"e2e"});
}

TEST_F(SchedulerTest, EmptyNeedsStartAtOnceEvenInTheLastStage) {
  add("compile", "build");
  needs(add("notify", "deploy"), {});
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(names(s, s.advance()), (V{"compile", "notify"}));
}

TEST_F(SchedulerTest, NeedsCanPointToALaterJobOfTheSameStage) {
  needs(add("second", "build"), {"first"});
  add("first", "build");
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(run_all(s), (V{"first", "second"}));
}

TEST_F(SchedulerTest, ADagJobWhoseNeedFailedOrWasSkippedIsSkippedButAlwaysStillRuns) {
  add("compile", "build");
  needs(add("package", "test"), {"compile"});
  needs(add("upload", "deploy"), {"package"});
  needs(add("cleanup", "deploy", When::kAlways), {"package"});
  add("independent", "test");
  outcomes_["compile"] = {fail()};
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(run_all(s), (V{"compile", "cleanup"}));
  EXPECT_EQ(state(s, "package"), JobState::kSkipped);
  EXPECT_EQ(state(s, "upload"), JobState::kSkipped);
  EXPECT_EQ(state(s, "independent"), JobState::kSkipped);
  EXPECT_EQ(s.status(), PipelineStatus::kFailed);
}

TEST_F(SchedulerTest, ADagJobRunsAfterAnAllowedFailureOfItsNeed) {
  add("flaky", "build").allow_failure = true;
  needs(add("unit", "test"), {"flaky"});
  outcomes_["flaky"] = {fail()};
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(run_all(s), (V{"flaky", "unit"}));
  EXPECT_EQ(s.status(), PipelineStatus::kSuccess);
}

TEST_F(SchedulerTest, ManualJobsWaitAndDoNotBlockLaterStagesWhenAllowedToFail) {
  auto& m = add("deploy-staging", "build", When::kManual);
  m.allow_failure = true;  // the plan's default for `when: manual` outside rules
  add("unit", "test");
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(run_all(s), V{"unit"});
  EXPECT_EQ(state(s, "deploy-staging"), JobState::kManual);
  EXPECT_NE(s.jobs()[0].note.find("--job 'deploy-staging'"), std::string::npos);
  EXPECT_EQ(s.status(), PipelineStatus::kSuccess);
}

TEST_F(SchedulerTest, ABlockingManualJobHoldsLaterStagesAndBlocksThePipeline) {
  add("approve", "build", When::kManual);  // from rules: allow_failure false
  add("ship", "deploy");
  Scheduler s(plan_, std::nullopt);
  EXPECT_TRUE(run_all(s).empty());
  EXPECT_EQ(state(s, "approve"), JobState::kManual);
  EXPECT_EQ(state(s, "ship"), JobState::kCreated);
  EXPECT_EQ(s.status(), PipelineStatus::kBlocked);
}

TEST_F(SchedulerTest, ADagJobNeedingAnUnrunManualJobIsSkipped) {
  add("approve", "build", When::kManual).allow_failure = true;
  needs(add("ship", "deploy"), {"approve"});
  Scheduler s(plan_, std::nullopt);
  EXPECT_TRUE(run_all(s).empty());
  EXPECT_EQ(state(s, "ship"), JobState::kSkipped);
}

TEST_F(SchedulerTest, ManualAfterAFailureIsSkipped) {
  add("compile", "build");
  add("deploy", "deploy", When::kManual).allow_failure = true;
  outcomes_["compile"] = {fail()};
  Scheduler s(plan_, std::nullopt);
  run_all(s);
  EXPECT_EQ(state(s, "deploy"), JobState::kSkipped);
}

TEST_F(SchedulerTest, SelectedManualJobRuns) {
  add("compile", "build");
  add("deploy", "deploy", When::kManual).allow_failure = true;
  auto sel = select_jobs(plan_, {"deploy"});
  ASSERT_TRUE(sel.ok());
  Scheduler s(plan_, *sel);
  EXPECT_EQ(s.jobs().size(), 1u);
  EXPECT_EQ(run_all(s), V{"deploy"});
  EXPECT_EQ(s.status(), PipelineStatus::kSuccess);
}

TEST_F(SchedulerTest, DelayedJobsAreScheduledAndHoldLaterStagesUntilStarted) {
  add("compile", "build");
  add("later", "build", When::kDelayed).start_in = "30 minutes";
  add("unit", "test");
  Scheduler s(plan_, std::nullopt);
  // GitLab: a delayed job whose turn came is `scheduled`, not pending; the rest goes on.
  EXPECT_EQ(names(s, s.advance()), V{"compile"});
  EXPECT_EQ(state(s, "later"), JobState::kScheduled);
  EXPECT_EQ(s.jobs()[1].start_in_seconds, 30 * 60);
  EXPECT_NE(s.jobs()[1].note.find("30 minutes"), std::string::npos);
  s.mark_running(0);
  s.record(0, ok());
  EXPECT_TRUE(s.advance().empty());  // the next stage waits for the scheduled job
  EXPECT_FALSE(s.finished());
  EXPECT_EQ(s.status(), PipelineStatus::kRunning);
  s.start_scheduled(1);
  EXPECT_EQ(state(s, "later"), JobState::kPending);
  s.mark_running(1);
  s.record(1, ok());
  EXPECT_EQ(names(s, s.advance()), V{"unit"});
}

TEST_F(SchedulerTest, DelayedJobAfterAFailureIsSkipped) {
  add("compile", "build");
  add("later", "test", When::kDelayed).start_in = "1 second";
  outcomes_["compile"] = {fail()};
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(run_all(s), V{"compile"});
  EXPECT_EQ(state(s, "later"), JobState::kSkipped);
}

TEST_F(SchedulerTest, CancelCancelsScheduledJobs) {
  add("later", "build", When::kDelayed).start_in = "1 week";
  Scheduler s(plan_, std::nullopt);
  EXPECT_TRUE(s.advance().empty());
  EXPECT_EQ(state(s, "later"), JobState::kScheduled);
  s.cancel();
  EXPECT_EQ(state(s, "later"), JobState::kCanceled);
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(s.status(), PipelineStatus::kCanceled);
}

TEST_F(SchedulerTest, RetryMaxRetriesAFailedJobUpToMaxTimes) {
  add("flaky", "build").retry = schema::Retry{2, {}, {}, {}};
  add("unit", "test");
  outcomes_["flaky"] = {fail(), fail()};
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(run_all(s), (V{"flaky", "flaky", "flaky", "unit"}));
  EXPECT_EQ(s.jobs()[0].attempts, 3);
  EXPECT_EQ(s.status(), PipelineStatus::kSuccess);

  outcomes_["flaky"] = {fail(), fail(), fail()};
  Scheduler s2(plan_, std::nullopt);
  EXPECT_EQ(run_all(s2), (V{"flaky", "flaky", "flaky"}));
  EXPECT_EQ(s2.status(), PipelineStatus::kFailed);
}

TEST_F(SchedulerTest, RetryWhenRetriesOnlyTheNamedFailureReasons) {
  add("net", "build").retry =
      schema::Retry{2, {"runner_system_failure", "job_execution_timeout"}, {}, {}};
  outcomes_["net"] = {timeout(), fail(1)};
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(run_all(s), (V{"net", "net"})) << "timeout retried, script failure not";
  EXPECT_EQ(s.status(), PipelineStatus::kFailed);
}

TEST_F(SchedulerTest, RetryExitCodesRetryOnlyThoseExitCodes) {
  add("oom", "build").retry = schema::Retry{2, {}, {137}, {}};
  outcomes_["oom"] = {fail(137), fail(1)};
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(run_all(s), (V{"oom", "oom"}));
  EXPECT_EQ(s.jobs()[0].last->exit_code, 1);
}

TEST_F(SchedulerTest, MissingDependencyIsNeverRetried) {
  add("unpack", "build").retry = schema::Retry{2, {"always"}, {}, {}};
  outcomes_["unpack"] = {fail(1, "missing_dependency_failure")};
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(run_all(s), V{"unpack"});
}

TEST_F(SchedulerTest, CancelMarksWaitingJobsCanceledAndStartsNothingMore) {
  add("a", "build").retry = schema::Retry{2, {}, {}, {}};
  add("b", "test");
  add("c", "deploy", When::kAlways);
  Scheduler s(plan_, std::nullopt);
  EXPECT_EQ(s.advance().size(), 1u);
  s.mark_running(0);
  s.cancel();
  EXPECT_FALSE(s.finished());
  EXPECT_FALSE(s.record(0, {Kind::kCanceled, "canceled", std::nullopt}));
  EXPECT_TRUE(s.advance().empty());
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(state(s, "a"), JobState::kCanceled);
  EXPECT_EQ(state(s, "b"), JobState::kCanceled);
  EXPECT_EQ(state(s, "c"), JobState::kCanceled);
  EXPECT_EQ(s.status(), PipelineStatus::kCanceled);
}

TEST_F(SchedulerTest, SelectByKeyTakesEveryInstanceAndUnknownNamesAreErrors) {
  for (int i = 1; i <= 3; ++i) {
    auto& j = add("test " + std::to_string(i) + "/3", "test");
    j.job_name = "test";
  }
  add("build", "build");
  auto sel = select_jobs(plan_, {"test"});
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->size(), 3u);
  auto one = select_jobs(plan_, {"test 2/3"});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, std::set<std::string>{"test 2/3"});
  auto bad = select_jobs(plan_, {"tset"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("'tset'"), std::string::npos);
  EXPECT_NE(bad.error().message().find("'build'"), std::string::npos);
}

TEST_F(SchedulerTest, SelectionListsArtifactsOfJobsNotRunAndTreatsThemAsAbsent) {
  add("compile", "build").artifacts = schema::Artifacts{};
  add("lint", "build");
  auto& unit = add("unit", "test");
  unit.dependencies = {"compile", "lint"};
  needs(unit, {"compile", "lint"});
  Scheduler s(plan_, std::set<std::string>{"unit"});
  ASSERT_EQ(s.jobs().size(), 1u);
  EXPECT_EQ(s.jobs()[0].missing_needs, V{"compile"}) << "lint has no artifacts";
  EXPECT_EQ(run_all(s), V{"unit"});
}

TEST_F(SchedulerTest, EmptyPlanSucceeds) {
  Scheduler s(plan_, std::nullopt);
  EXPECT_TRUE(s.advance().empty());
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(s.status(), PipelineStatus::kSuccess);
}

}  // namespace
}  // namespace gantry::agent
