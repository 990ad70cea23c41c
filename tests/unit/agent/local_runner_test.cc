// LocalRunner with a fake AttemptRunner whose attempts block until the test releases them:
// at most --jobs attempts at once, the next starts as one ends, retries run again, and a stop
// request cancels the waiting jobs and stops the running ones before run() returns. Every wait
// is on a condition the test sets, never on time.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "agent/local_runner.h"

namespace gantry::agent {
namespace {

class BlockingRunner : public AttemptRunner {
 public:
  AttemptOutcome run(const schema::PlannedJob& job, int attempt, std::stop_token stop) override {
    std::unique_lock lock(mu_);
    started_at_[job.name] = std::chrono::steady_clock::now();
    running_.insert(job.name);
    started_.push_back(job.name + "#" + std::to_string(attempt));
    max_running_ = std::max(max_running_, running_.size());
    cv_.notify_all();
    auto go = [&] { return released_.count(job.name) > 0 || free_.count(job.name) > 0; };
    cv_.wait(lock, stop, go);
    running_.erase(job.name);
    cv_.notify_all();
    if (!go()) {
      saw_stop_.insert(job.name);
      return {AttemptOutcome::Kind::kCanceled, "canceled", std::nullopt};
    }
    released_.erase(job.name);
    auto& q = outcomes_[job.name];
    if (q.empty()) return {AttemptOutcome::Kind::kSuccess, "", 0};
    auto o = q.front();
    q.erase(q.begin());
    return o;
  }

  void release(const std::string& name) {
    std::lock_guard g(mu_);
    released_.insert(name);
    cv_.notify_all();
  }
  // Waits until exactly these jobs are running.
  void wait_running(std::set<std::string> names) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return running_ == names; });
  }
  std::vector<std::string> started() {
    std::lock_guard g(mu_);
    return started_;
  }

  std::mutex mu_;
  std::condition_variable_any cv_;
  std::set<std::string> running_;
  std::set<std::string> released_;
  std::set<std::string> free_;  // never block
  std::vector<std::string> started_;
  std::set<std::string> saw_stop_;
  size_t max_running_ = 0;
  std::map<std::string, std::chrono::steady_clock::time_point> started_at_;
  std::map<std::string, std::vector<AttemptOutcome>> outcomes_;
};

class RecordingObserver : public RunObserver {
 public:
  void job_started(const ScheduledJob& job, int attempt) override {
    events.push_back("start " + job.job->name);
  }
  void job_finished(const ScheduledJob& job, const AttemptOutcome&, bool retrying,
                    double) override {
    events.push_back(std::string(retrying ? "retry " : "end ") + job.job->name);
  }
  void job_not_run(const ScheduledJob& job) override {
    events.push_back(std::string(job_state_name(job.state)) + " " + job.job->name);
  }
  void canceling() override { events.push_back("canceling"); }
  void job_scheduled(const ScheduledJob& job, bool waits) override {
    events.push_back(std::string(waits ? "scheduled " : "scheduled-now ") + job.job->name);
    scheduled_at[job.job->name] = std::chrono::steady_clock::now();
    if (on_scheduled) on_scheduled();
  }
  std::vector<std::string> events;
  std::map<std::string, std::chrono::steady_clock::time_point> scheduled_at;
  std::function<void()> on_scheduled;
};

class LocalRunnerTest : public ::testing::Test {
 protected:
  static JobState state_of(const Scheduler& s, const std::string& name) {
    return s.jobs()[s.index_of(name).value()].state;
  }
  schema::PlannedJob& add(std::string name, std::string stage) {
    schema::PlannedJob j;
    j.name = j.job_name = std::move(name);
    j.stage = std::move(stage);
    plan_.jobs.push_back(std::move(j));
    return plan_.jobs.back();
  }
  schema::Plan plan_;
  BlockingRunner runner_;
  RecordingObserver observer_;
};

TEST_F(LocalRunnerTest, RunsAtMostParallelismAttemptsAtOnce) {
  plan_.stages = {"test"};
  for (auto n : {"a", "b", "c"}) add(n, "test");
  Scheduler s(plan_, std::nullopt);
  LocalRunner r(s, runner_, observer_, 2);
  std::jthread t([&] { r.run(std::stop_token()); });
  runner_.wait_running({"a", "b"});
  runner_.release("b");
  runner_.wait_running({"a", "c"});
  runner_.release("a");
  runner_.release("c");
  t.join();
  EXPECT_EQ(runner_.max_running_, 2u);
  EXPECT_EQ(s.status(), PipelineStatus::kSuccess);
  EXPECT_FALSE(r.canceled());
}

TEST_F(LocalRunnerTest, RetriesAndSkipsAsTheSchedulerSays) {
  plan_.stages = {"build", "test"};
  add("build", "build").retry = schema::Retry{1, {}, {}, {}};
  add("unit", "test");
  add("notify", "test").when = schema::When::kOnFailure;
  runner_.outcomes_["build"] = {{AttemptOutcome::Kind::kFailed, "script_failure", 1}};
  Scheduler s(plan_, std::nullopt);
  LocalRunner r(s, runner_, observer_, 4);
  runner_.free_ = {"build", "unit"};
  std::jthread t([&] { r.run(std::stop_token()); });
  t.join();
  EXPECT_EQ(runner_.started(), (std::vector<std::string>{"build#1", "build#2", "unit#1"}));
  EXPECT_EQ(observer_.events,
            (std::vector<std::string>{"start build", "retry build", "start build", "end build",
                                      "skipped notify", "start unit", "end unit"}));
  EXPECT_EQ(s.status(), PipelineStatus::kSuccess);
  EXPECT_GT(r.durations()[0], 0.0);
}

TEST_F(LocalRunnerTest, StopCancelsWaitingJobsAndStopsRunningOnesBeforeReturning) {
  plan_.stages = {"test", "deploy"};
  add("a", "test");
  add("b", "test");
  add("ship", "deploy");
  Scheduler s(plan_, std::nullopt);
  LocalRunner r(s, runner_, observer_, 1);
  std::stop_source stop;
  std::jthread t([&] { r.run(stop.get_token()); });
  runner_.wait_running({"a"});
  stop.request_stop();
  t.join();
  EXPECT_TRUE(r.canceled());
  EXPECT_EQ(runner_.saw_stop_, std::set<std::string>{"a"});
  EXPECT_EQ(runner_.started(), std::vector<std::string>{"a#1"});
  for (const auto& j : s.jobs()) EXPECT_EQ(j.state, JobState::kCanceled) << j.job->name;
  EXPECT_EQ(s.status(), PipelineStatus::kCanceled);
  EXPECT_TRUE(runner_.running_.empty());
}

TEST_F(LocalRunnerTest, DelayedJobWaitsItsStartInWhileTheRestGoesOn) {
  plan_.stages = {"build", "test"};
  add("later", "build").when = schema::When::kDelayed;
  plan_.jobs.back().start_in = "1 second";
  add("now", "build");
  add("unit", "test");
  runner_.free_ = {"later", "now", "unit"};
  Scheduler s(plan_, std::nullopt);
  LocalRunner r(s, runner_, observer_, 4);
  std::jthread t([&] { r.run(std::stop_token()); });
  t.join();
  // "now" starts first although "later" comes first in the file; "unit" waits for both.
  EXPECT_EQ(runner_.started(), (std::vector<std::string>{"now#1", "later#1", "unit#1"}));
  EXPECT_EQ(observer_.events.front(), "scheduled later");
  // A lower bound only: the job cannot have started before its start_in passed.
  EXPECT_GE(runner_.started_at_["later"] - observer_.scheduled_at["later"],
            std::chrono::seconds(1));
  EXPECT_EQ(s.status(), PipelineStatus::kSuccess);
}

TEST_F(LocalRunnerTest, StartDelayedAtOnceDoesNotWait) {
  plan_.stages = {"build"};
  add("later", "build").when = schema::When::kDelayed;
  plan_.jobs.back().start_in = "1 week";  // a wait would hang the test until its timeout
  runner_.free_ = {"later"};
  Scheduler s(plan_, std::nullopt);
  LocalRunner r(s, runner_, observer_, 4);
  r.set_start_delayed_at_once(true);
  std::jthread t([&] { r.run(std::stop_token()); });
  t.join();
  EXPECT_EQ(runner_.started(), std::vector<std::string>{"later#1"});
  EXPECT_EQ(observer_.events.front(), "scheduled-now later");
  EXPECT_EQ(s.status(), PipelineStatus::kSuccess);
}

TEST_F(LocalRunnerTest, StopCancelsTheWaitOfAScheduledJob) {
  plan_.stages = {"build"};
  add("later", "build").when = schema::When::kDelayed;
  plan_.jobs.back().start_in = "1 week";  // without the cancel, the test hangs to its timeout
  Scheduler s(plan_, std::nullopt);
  LocalRunner r(s, runner_, observer_, 4);
  std::stop_source stop;
  observer_.on_scheduled = [&] { stop.request_stop(); };
  std::jthread t([&] { r.run(stop.get_token()); });
  t.join();
  EXPECT_TRUE(r.canceled());
  EXPECT_TRUE(runner_.started().empty());
  EXPECT_EQ(state_of(s, "later"), JobState::kCanceled);
  EXPECT_EQ(observer_.events,
            (std::vector<std::string>{"scheduled later", "canceling", "canceled later"}));
  EXPECT_EQ(s.status(), PipelineStatus::kCanceled);
}

}  // namespace
}  // namespace gantry::agent
