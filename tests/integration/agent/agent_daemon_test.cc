// The agent daemon against a real controller on 127.0.0.1 (in-process, port 0), with projects
// in local git repositories the test makes. The JobExecutor is a fake that interprets a few
// script words, so this suite tests the agent's own work — registration, long-polls, checkout,
// log streaming at offsets, artifacts, heartbeats and cancellation, a controller restart in the
// middle of a job — apart from containers (the e2e suite runs real ones).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "agent/remote/agent_daemon.h"
#include "agent/remote/api_transport.h"
#include "agent/remote/controller_client.h"
#include "agent/remote/git_checkout.h"
#include "common/file.h"
#include "common/json.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "controller/daemon.h"
#include "tests/support/controller_harness.h"
#include "tests/support/temp_dir.h"

namespace gantry::agent {
namespace {

// Interprets script lines: `echo TEXT`, `cat FILE` (from the checkout), `artifact TEXT`,
// `deps` (prints each dependency's artifact), `wait` (until the gate opens or the job is
// stopped), `fail`.
class FakeExecutor : public JobExecutor {
 public:
  schema::JobResult run(const schema::JobSpec& spec, JobEnvironment& env,
                        std::stop_token stop) override {
    schema::JobResult r;
    r.started_at = rfc3339_now(TimePrecision::kMillis);
    auto say = [&](const std::string& s) { env.log->write(s); };
    for (const auto& line : spec.job.script) {
      std::string word = line.substr(0, line.find(' '));
      std::string arg = line.size() > word.size() + 1 ? line.substr(word.size() + 1) : "";
      if (word == "echo") {
        say(arg + "\n");
      } else if (word == "cat") {
        auto text = read_file(join_path(env.source_dir, arg));
        say(text.ok() ? *text : "cat: " + text.error().message() + "\n");
      } else if (word == "artifact") {
        std::string tmp = env.source_dir + "/../artifact.tmp";
        EXPECT_TRUE(write_file(tmp, arg).ok());
        auto loc = env.artifacts->put(spec, tmp);
        EXPECT_TRUE(loc.ok()) << loc.error().message();
        if (loc.ok()) r.artifacts_locator = *loc;
      } else if (word == "deps") {
        for (const auto& d : spec.dependencies) {
          std::string tmp = env.source_dir + "/../dep.tmp";
          auto st = env.artifacts->get(d, tmp);
          say("dep " + d.job + ": " + (st.ok() ? *read_file(tmp) : st.error().message()) + "\n");
        }
      } else if (word == "wait") {
        {
          std::lock_guard lock(mu);
          ++waiting;
        }
        cv.notify_all();
        std::unique_lock lock(mu);
        cv_any.wait(lock, stop, [&] { return gate_open; });
      } else if (word == "fail") {
        r.status = schema::JobStatus::kFailed;
        r.failure_reason = schema::FailureReason::kScriptFailure;
        r.exit_code = 1;
        say("ERROR: Job failed: exit code 1\n");
        r.finished_at = rfc3339_now(TimePrecision::kMillis);
        return r;
      }
      if (stop.stop_requested()) {
        r.status = schema::JobStatus::kCanceled;
        r.failure_reason = schema::FailureReason::kCanceled;
        r.finished_at = rfc3339_now(TimePrecision::kMillis);
        std::lock_guard lock(mu);
        ++canceled;
        return r;
      }
    }
    r.status = schema::JobStatus::kSuccess;
    r.failure_reason = schema::FailureReason::kNone;
    r.exit_code = 0;
    r.finished_at = rfc3339_now(TimePrecision::kMillis);
    return r;
  }

  void open_gate() {
    std::lock_guard lock(mu);
    gate_open = true;
    cv_any.notify_all();
  }
  void wait_for_waiting(int n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return waiting >= n; });
  }

  std::mutex mu;
  std::condition_variable cv;
  std::condition_variable_any cv_any;
  int waiting = 0;
  int canceled = 0;
  bool gate_open = false;
};

class AgentDaemonTest : public ::testing::Test {
 protected:
  void start_controller(uint16_t port = 0) {
    controller::DaemonOptions o;
    o.controller.data_dir = dir_.file("controller");
    o.controller.heartbeat = std::chrono::seconds(1);
    o.port = port;
    auto d = controller::Daemon::start(o);
    ASSERT_TRUE(d.ok()) << d.error().message();
    controller_ = std::move(*d);
    auto admin = read_file(dir_.file("controller/admin.token"));
    ASSERT_TRUE(admin.ok()) << admin.error().message();
    admin_token_ = std::string(trim(*admin));
    auto reg = read_file(dir_.file("controller/registration.token"));
    ASSERT_TRUE(reg.ok());
    registration_token_ = std::string(trim(*reg));
    auto t = HttpApiTransport::create(controller_->url(), admin_token_);
    ASSERT_TRUE(t.ok());
    admin_ = std::move(*t);
  }

  // Registers an agent and starts its daemon on a thread.
  void start_agent(std::vector<std::string> labels, int concurrency = 1) {
    auto reg_transport = HttpApiTransport::create(controller_->url(), registration_token_);
    ASSERT_TRUE(reg_transport.ok());
    auto reg = register_agent(**reg_transport, "test-agent", labels);
    ASSERT_TRUE(reg.ok()) << reg.error().message();
    auto t = HttpApiTransport::create(controller_->url(), reg->token);
    ASSERT_TRUE(t.ok());
    agent_transport_ = std::move(*t);
    client_ = std::make_unique<ControllerClient>(*agent_transport_);
    checkout_ = std::make_unique<GitCheckout>(dir_.file("agent/mirrors"));
    AgentDaemonOptions o;
    o.state_dir = dir_.file("agent");
    o.concurrency = concurrency;
    o.poll_wait = std::chrono::seconds(1);
    o.backoff.initial = std::chrono::milliseconds(20);
    o.backoff.max = std::chrono::milliseconds(200);
    daemon_ = std::make_unique<AgentDaemon>(o, *client_, executor_, nullptr, *checkout_);
    daemon_thread_ = std::thread([this] { daemon_status_ = daemon_->run(); });
  }
  void TearDown() override {
    if (daemon_) {
      executor_.open_gate();
      daemon_->shutdown();
      if (daemon_thread_.joinable()) daemon_thread_.join();
    }
  }

  Json api(const std::string& method, const std::string& path, const Json* body = nullptr) {
    auto r = call_json(*admin_, method + " " + path, method, path, body);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? *r : Json();
  }
  int64_t create_and_trigger(const std::string& pipeline_yaml) {
    std::string repo = dir_.file("demo.git");
    testing::make_bare_git_repo(dir_.file("demo-work"), repo,
                                {{".gitlab-ci.yml", pipeline_yaml}, {"README", "checked out\n"}});
    Json p = {{"name", "demo"}, {"repo_url", repo}};
    api("POST", "/api/v1/projects", &p);
    Json t = {{"project", "demo"}};
    Json pipeline = api("POST", "/api/v1/pipelines", &t);
    return pipeline.value("id", int64_t{0});
  }
  // Waits (polling the API) until the pipeline has finished; returns it with its jobs.
  Json wait_finished(int64_t id) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      Json p = api("GET", "/api/v1/pipelines/" + std::to_string(id));
      std::string s = p.value("status", "");
      if (s == "success" || s == "failed" || s == "canceled") return p;
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "pipeline did not finish: " << p.dump(2);
        return p;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  std::string job_log(int64_t job_id) {
    ApiRequest req;
    req.path = "/api/v1/jobs/" + std::to_string(job_id) + "/log";
    auto r = admin_->send(req);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->body : "";
  }
  const Json* job_named(const Json& pipeline, const std::string& name) {
    for (const auto& j : pipeline["jobs"]) {
      if (j.value("name", "") == name) return &j;
    }
    ADD_FAILURE() << "no job " << name;
    return nullptr;
  }

  testing::TempDir dir_;
  std::unique_ptr<controller::Daemon> controller_;
  std::string admin_token_, registration_token_;
  std::unique_ptr<HttpApiTransport> admin_, agent_transport_;
  std::unique_ptr<ControllerClient> client_;
  std::unique_ptr<GitCheckout> checkout_;
  FakeExecutor executor_;
  std::unique_ptr<AgentDaemon> daemon_;
  std::thread daemon_thread_;
  Status daemon_status_;
};

const char kHeader[] =
    "\x1b[32;1mGetting source from Git repository\x1b[0;m\n";

std::string checkout_lines(const Json& pipeline) {
  std::string sha = pipeline.value("sha", "");
  return std::string(kHeader) + "Checking out " + sha.substr(0, 8) +
         " as detached HEAD (ref is main)...\n";
}

TEST_F(AgentDaemonTest, RunsStagesPassesArtifactsAndStreamsLogsByteForByte) {
  start_controller();
  int64_t id = create_and_trigger(
      "stages: [build, test]\n"
      "build:\n  stage: build\n  script:\n    - echo building\n    - cat README\n"
      "    - artifact made-by-build\n  artifacts: {paths: [out]}\n"
      "test:\n  stage: test\n  script:\n    - deps\n    - echo tested\n");
  ASSERT_GT(id, 0);
  start_agent({});
  Json p = wait_finished(id);
  EXPECT_EQ(p.value("status", ""), "success") << p.dump(2);
  const Json* build = job_named(p, "build");
  const Json* test = job_named(p, "test");
  ASSERT_TRUE(build && test);
  EXPECT_EQ(job_log((*build)["id"].get<int64_t>()),
            checkout_lines(p) + "building\nchecked out\n");
  EXPECT_EQ(job_log((*test)["id"].get<int64_t>()),
            checkout_lines(p) + "dep build: made-by-build\ntested\n");
}

TEST_F(AgentDaemonTest, CanceledPipelineStopsTheRunningJob) {
  start_controller();
  int64_t id =
      create_and_trigger("long:\n  script:\n    - echo started\n    - wait\n    - echo never\n");
  start_agent({});
  executor_.wait_for_waiting(1);
  api("POST", "/api/v1/pipelines/" + std::to_string(id) + "/cancel");
  Json p = wait_finished(id);
  EXPECT_EQ(p.value("status", ""), "canceled");
  // The heartbeat carried the cancel to the job: its executor saw the stop token.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    {
      std::lock_guard lock(executor_.mu);
      if (executor_.canceled == 1) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the job was never stopped";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const Json* job = job_named(p, "long");
  ASSERT_TRUE(job);
  EXPECT_EQ(job_log((*job)["id"].get<int64_t>()).find("never"), std::string::npos);
}

TEST_F(AgentDaemonTest, JobOnlyGoesToAnAgentWhoseLabelsCoverItsTags) {
  start_controller();
  int64_t id = create_and_trigger("gpu:\n  tags: [gpu]\n  script: [echo on-gpu]\n");
  start_agent({"linux", "gpu"});
  Json p = wait_finished(id);
  EXPECT_EQ(p.value("status", ""), "success") << p.dump(2);
  Json agents = api("GET", "/api/v1/agents");
  ASSERT_EQ(agents["agents"].size(), 1u);
  EXPECT_EQ(agents["agents"][0]["labels"], Json::parse(R"(["linux", "gpu"])"));
}

TEST_F(AgentDaemonTest, SurvivesAControllerRestartMidJobWithoutLosingLogBytes) {
  start_controller();
  int64_t id =
      create_and_trigger("long:\n  script:\n    - echo before\n    - wait\n    - echo after\n");
  start_agent({});
  executor_.wait_for_waiting(1);
  uint16_t port = controller_->port();
  controller_->stop();
  controller_.reset();
  start_controller(port);
  executor_.open_gate();
  Json p = wait_finished(id);
  EXPECT_EQ(p.value("status", ""), "success") << p.dump(2);
  const Json* job = job_named(p, "long");
  ASSERT_TRUE(job);
  EXPECT_EQ(job_log((*job)["id"].get<int64_t>()), checkout_lines(p) + "before\nafter\n");
}

TEST_F(AgentDaemonTest, ShutdownStopsTakingJobsAndReturns) {
  start_controller();
  start_agent({});
  daemon_->shutdown();
  daemon_thread_.join();
  EXPECT_TRUE(daemon_status_.ok()) << daemon_status_.error().message();
  EXPECT_EQ(daemon_->running_jobs(), 0);
}

}  // namespace
}  // namespace gantry::agent
