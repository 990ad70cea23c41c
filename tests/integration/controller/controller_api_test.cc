// The controller end to end on 127.0.0.1: an in-process daemon on port 0 driven over HTTP with
// the admin token and by a fake agent (register, long-poll, lease, heartbeat, log at offsets,
// finish), projects in local git repositories the test makes. Leases lapse by moving the
// controller's clock, not by waiting.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <thread>

#include "common/digest.h"
#include "common/file.h"
#include "common/json.h"
#include "controller/daemon.h"
#include "pipeline-schema/job_spec.h"
#include "tests/support/controller_harness.h"
#include "tests/support/temp_dir.h"

namespace gantry::controller {
namespace {

using testing::ApiClient;
using testing::ApiReply;
using testing::FakeAgent;

int64_t real_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A git repository `name` in `dir` with `files` committed on branch main; returns its path.
std::string make_repo(const testing::TempDir& dir, const std::string& name,
                      const std::map<std::string, std::string>& files) {
  std::string repo = dir.file(name);
  testing::make_git_repo(repo, files);
  return repo;
}

// What a real agent does with a leased job, without containers: the job "prints" its name in two
// log chunks (the first sent twice, as after a lost answer), with a heartbeat between them, then
// finishes with `status`. Returns the log it wrote.
std::string run_job(FakeAgent& agent, const Json& lease,
                    schema::JobStatus status = schema::JobStatus::kSuccess) {
  int64_t job = lease.at("job_id").get<int64_t>();
  int attempt = lease.at("attempt").get<int>();
  std::string name = lease.at("spec").at("job").at("name").get<std::string>();
  std::string first = "$ running " + name + "\n";
  std::string second = "done " + name + "\n";
  EXPECT_EQ(agent.append(job, attempt, 0, first).status, 200);
  ApiReply dup = agent.append(job, attempt, 0, first);
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(dup.body.value("code", ""), "offset_mismatch");
  EXPECT_EQ(dup.body.value("size", 0u), first.size());
  ApiReply hb = agent.heartbeat(job, attempt);
  EXPECT_EQ(hb.status, 200) << hb.raw;
  EXPECT_EQ(agent.append(job, attempt, first.size(), second).status, 200);
  ApiReply fin = agent.finish(
      job, attempt, first + second, status,
      status == schema::JobStatus::kSuccess ? std::optional<int>(0) : std::optional<int>(1));
  EXPECT_EQ(fin.status, 200) << fin.raw;
  return first + second;
}

class ControllerApiTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }
  void TearDown() override { daemon_.reset(); }

  void start(uint16_t port = 0) {
    DaemonOptions o;
    o.port = port;
    o.controller.data_dir = dir_.file("data");
    o.controller.clock = [this] { return real_now_ms() + clock_offset_ms_.load(); };
    o.controller.max_poll_wait = std::chrono::seconds(30);
    auto d = Daemon::start(o);
    ASSERT_TRUE(d.ok()) << d.error().message();
    daemon_ = std::move(*d);
    api_ = std::make_unique<ApiClient>(daemon_->url());
    auto admin = read_file(dir_.file("data/admin.token"));
    ASSERT_TRUE(admin.ok());
    admin_ = admin->substr(0, admin->find('\n'));
    auto reg = read_file(dir_.file("data/registration.token"));
    ASSERT_TRUE(reg.ok());
    registration_ = reg->substr(0, reg->find('\n'));
  }

  ApiReply admin(const std::string& method, const std::string& path, const Json& body = nullptr) {
    return api_->call(method, path, admin_, body.is_null() ? "" : body.dump());
  }

  std::unique_ptr<FakeAgent> register_agent(const std::vector<std::string>& labels = {}) {
    ApiReply r = api_->call("POST", "/api/v1/agent/register", registration_,
                            Json{{"name", "fake"}, {"labels", labels}}.dump());
    EXPECT_EQ(r.status, 201) << r.raw;
    return std::make_unique<FakeAgent>(daemon_->url(), r.body.value("token", ""));
  }

  void create_project(const std::string& name, const std::string& repo) {
    ApiReply r = admin(
        "POST", "/api/v1/projects",
        Json{{"name", name},
             {"repo_url", repo},
             {"variables",
              Json::array(
                  {Json{{"key", "SECRET"}, {"value", "hunter2-secret"}, {"masked", true}}})}});
    ASSERT_EQ(r.status, 201) << r.raw;
  }

  // Project "demo" whose pipeline is one job (`job: script: [x]`), triggered: the pipeline's id.
  int64_t trigger_one_job_pipeline() {
    std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml", "job:\n  script: [x]\n"}});
    create_project("demo", repo);
    return trigger("demo");
  }

  int64_t trigger(const std::string& project) {
    ApiReply r = admin("POST", "/api/v1/pipelines", Json{{"project", project}});
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body.value("id", int64_t{0});
  }

  Json pipeline(int64_t id) { return admin("GET", "/api/v1/pipelines/" + std::to_string(id)).body; }

  testing::TempDir dir_;
  std::atomic<int64_t> clock_offset_ms_{0};
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<ApiClient> api_;
  std::string admin_;
  std::string registration_;
};

const char* kStagesNeedsMatrix = R"(stages: [build, test, deploy]
build:
  stage: build
  script: [make]
lint:
  stage: test
  needs: []
  script: [lint]
test:
  stage: test
  needs: [build]
  parallel:
    matrix:
      - OS: [linux, mac]
  script: [make test]
deploy:
  stage: deploy
  script: [deploy]
)";

TEST_F(ControllerApiTest, EveryCallNeedsTheRightToken) {
  EXPECT_EQ(api_->call("GET", "/api/v1/projects", "").status, 401);
  ApiReply wrong = api_->call("GET", "/api/v1/projects", "gantry-admin-wrong");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body, (Json{{"error", "unauthorized"}, {"code", "unauthorized"}}));
  EXPECT_EQ(api_->call("GET", "/api/v1/no/such/route", "nope").status, 401);
  EXPECT_EQ(api_->call("GET", "/api/v1/no/such/route", admin_).status, 404);
  auto agent = register_agent();
  EXPECT_EQ(api_->call("GET", "/api/v1/projects", agent->token()).status, 401);
  EXPECT_EQ(api_->call("GET", "/api/v1/agent/me", admin_).status, 401);
  EXPECT_EQ(api_->call("POST", "/api/v1/agent/register", admin_, "{}").status, 401);
  ApiReply me = api_->call("GET", "/api/v1/agent/me", agent->token());
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.body.value("name", ""), "fake");
  EXPECT_EQ(api_->call("DELETE", "/api/v1/projects", admin_).status, 405);
}

TEST_F(ControllerApiTest, TokensAreRootOnlyFiles) {
  struct stat st{};
  ASSERT_EQ(::stat(dir_.file("data/admin.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir_.file("data/registration.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ControllerApiTest, BadRequestsGetClearAnswers) {
  ApiReply malformed = api_->call("POST", "/api/v1/projects", admin_, "{\"name\": ");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.body.value("code", ""), "bad_request");
  EXPECT_NE(malformed.body.value("error", "").find("request body"), std::string::npos);
  ApiReply missing = admin("POST", "/api/v1/projects", Json{{"name", "x"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.value("error", "").find("repo_url"), std::string::npos);
  ApiReply bad_url =
      admin("POST", "/api/v1/projects", Json{{"name", "x"}, {"repo_url", "relative"}});
  EXPECT_EQ(bad_url.status, 400);
  ApiReply unknown = admin("POST", "/api/v1/pipelines", Json{{"project", "nope"}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body.value("error", ""), "project 'nope' not found");
  EXPECT_EQ(admin("GET", "/api/v1/jobs/999").status, 404);
  EXPECT_EQ(admin("GET", "/api/v1/pipelines/abc").status, 404);
  EXPECT_EQ(admin("GET", "/api/v1/pipelines?limit=0").status, 400);
  std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml", "a:\n  script: [x]\n"}});
  create_project("demo", repo);
  ApiReply dup = admin("POST", "/api/v1/projects", Json{{"name", "demo"}, {"repo_url", repo}});
  EXPECT_EQ(dup.status, 409);
  ApiReply bad_ref = admin("POST", "/api/v1/pipelines", Json{{"project", "demo"}, {"ref", "nope"}});
  EXPECT_EQ(bad_ref.status, 400);
  EXPECT_NE(bad_ref.body.value("error", "").find("'nope'"), std::string::npos);
  // Masked values never come back.
  ApiReply shown = admin("GET", "/api/v1/projects/demo");
  EXPECT_EQ(shown.raw.find("hunter2"), std::string::npos);
}

TEST_F(ControllerApiTest, PipelineFileWithErrorsGivesAFailedPipelineWithDiagnostics) {
  std::string repo =
      make_repo(dir_, "repo", {{".gantry-ci.yml", "job:\n  stage: nope\n  script: [x]\n"}});
  create_project("demo", repo);
  ApiReply r = admin("POST", "/api/v1/pipelines", Json{{"project", "demo"}});
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body.value("status", ""), "failed");
  EXPECT_EQ(r.body.value("failure_reason", ""), "config_error");
  ASSERT_FALSE(r.body.at("diagnostics").empty());
  std::string first = r.body.at("diagnostics")[0].get<std::string>();
  EXPECT_NE(first.find(".gantry-ci.yml:2:"), std::string::npos) << first;
  EXPECT_TRUE(r.body.at("jobs").empty());
}

TEST_F(ControllerApiTest, StagesNeedsAndMatrixRunToSuccessWithExactLogs) {
  std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml", kStagesNeedsMatrix}});
  create_project("demo", repo);
  int64_t id = trigger("demo");
  Json p = pipeline(id);
  ASSERT_EQ(p.at("jobs").size(), 5u);  // build, lint, test x2, deploy
  auto agent = register_agent();
  std::map<std::string, std::string> logs;
  std::vector<std::string> order;
  for (int i = 0; i < 5; ++i) {
    auto lease = agent->poll();
    ASSERT_TRUE(lease) << "no job for poll " << i << ": " << pipeline(id).dump();
    std::string name = (*lease).at("spec").at("job").at("name").get<std::string>();
    EXPECT_EQ((*lease).at("spec").at("masked_values"), Json::array({"hunter2-secret"}));
    EXPECT_EQ((*lease).at("spec").at("commit_sha").get<std::string>().size(), 40u);
    order.push_back(name);
    logs[name] = run_job(*agent, *lease);
  }
  p = pipeline(id);
  EXPECT_EQ(p.value("status", ""), "success") << p.dump(2);
  // deploy last (after the whole test stage); test instances after build.
  EXPECT_EQ(order.back(), "deploy");
  auto pos = [&](const std::string& n) {
    return std::find(order.begin(), order.end(), n) - order.begin();
  };
  EXPECT_LT(pos("build"), pos("test: [linux]"));
  EXPECT_LT(pos("build"), pos("test: [mac]"));
  for (const auto& j : p.at("jobs")) {
    EXPECT_EQ(j.value("status", ""), "success") << j.dump();
    ApiReply log = admin("GET", "/api/v1/jobs/" + std::to_string(j.value("id", 0)) + "/log");
    EXPECT_EQ(log.raw, logs[j.value("name", "")]);
    EXPECT_EQ(log.headers.get("X-Log-Complete"), "true");
  }
}

TEST_F(ControllerApiTest, TagsRouteJobsToAgentsWithThoseLabels) {
  std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml",
                                               "gpu:\n  tags: [gpu]\n  script: [x]\n"}});
  create_project("demo", repo);
  int64_t id = trigger("demo");
  auto plain = register_agent({"linux"});
  EXPECT_FALSE(plain->poll(0));
  auto gpu = register_agent({"gpu", "linux"});
  auto lease = gpu->poll(0);
  ASSERT_TRUE(lease);
  run_job(*gpu, *lease);
  EXPECT_EQ(pipeline(id).value("status", ""), "success");
}

TEST_F(ControllerApiTest, LapsedLeaseRequeuesUnderRetryAndRefusesTheOldAttempt) {
  std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml",
                                               "job:\n  retry: 1\n  script: [x]\n"}});
  create_project("demo", repo);
  int64_t id = trigger("demo");
  auto agent = register_agent();
  auto first = agent->poll(0);
  ASSERT_TRUE(first);
  int64_t job = (*first).at("job_id").get<int64_t>();
  ASSERT_EQ(agent->append(job, 1, 0, "partial\n").status, 200);
  clock_offset_ms_ += 61'000;  // past the 60 s lease
  daemon_->controller().tick();
  Json j = admin("GET", "/api/v1/jobs/" + std::to_string(job)).body;
  EXPECT_EQ(j.value("status", ""), "pending") << j.dump();
  // The old attempt is refused everywhere.
  ApiReply late = agent->append(job, 1, 8, "more\n");
  EXPECT_EQ(late.status, 409);
  EXPECT_EQ(late.body.value("code", ""), "stale_attempt");
  auto second = agent->poll(0);
  ASSERT_TRUE(second);
  EXPECT_EQ((*second).at("attempt").get<int>(), 2);
  EXPECT_EQ(agent->finish(job, 1, "partial\n", schema::JobStatus::kSuccess).status, 409);
  std::string log = run_job(*agent, *second);
  EXPECT_EQ(pipeline(id).value("status", ""), "success");
  EXPECT_EQ(admin("GET", "/api/v1/jobs/" + std::to_string(job) + "/log").raw, log);
  EXPECT_EQ(admin("GET", "/api/v1/jobs/" + std::to_string(job) + "/log?attempt=1").raw,
            "partial\n");
}

TEST_F(ControllerApiTest, LapsedLeaseWithoutRetryFailsAsAgentLost) {
  int64_t id = trigger_one_job_pipeline();
  auto agent = register_agent();
  auto lease = agent->poll(0);
  ASSERT_TRUE(lease);
  int64_t job = (*lease).at("job_id").get<int64_t>();
  ASSERT_EQ(agent->heartbeat(job, 1).status, 200);
  clock_offset_ms_ += 61'000;
  daemon_->controller().tick();
  Json p = pipeline(id);
  EXPECT_EQ(p.value("status", ""), "failed");
  EXPECT_EQ(p.at("jobs")[0].value("failure_reason", ""), "agent_lost");
}

TEST_F(ControllerApiTest, LeaseThatNoAgentAcknowledgedIsRequeuedNotFailed) {
  int64_t id = trigger_one_job_pipeline();
  auto gone = register_agent();
  ASSERT_TRUE(gone->poll(0));  // handed out, then this agent is never heard of again
  clock_offset_ms_ += 61'000;
  daemon_->controller().tick();
  EXPECT_EQ(pipeline(id).at("jobs")[0].value("status", ""), "pending");
  auto other = register_agent();
  auto lease = other->poll(0);
  ASSERT_TRUE(lease);
  EXPECT_EQ((*lease).at("attempt").get<int>(), 2);
  run_job(*other, *lease);
  EXPECT_EQ(pipeline(id).value("status", ""), "success");
}

TEST_F(ControllerApiTest, FinishWithAShortLogIsRefusedWithTheStoredSize) {
  trigger_one_job_pipeline();
  auto agent = register_agent();
  auto lease = agent->poll(0);
  ASSERT_TRUE(lease);
  int64_t job = (*lease).at("job_id").get<int64_t>();
  ASSERT_EQ(agent->append(job, 1, 0, "abc").status, 200);
  ApiReply r = agent->finish(job, 1, "abcdef", schema::JobStatus::kSuccess);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body.value("code", ""), "log_incomplete");
  EXPECT_EQ(r.body.value("size", 0), 3);
  ASSERT_EQ(agent->append(job, 1, 3, "def").status, 200);
  EXPECT_EQ(agent->finish(job, 1, "abcdef", schema::JobStatus::kSuccess).status, 200);
  // A repeated report gets the same answer.
  EXPECT_EQ(agent->finish(job, 1, "abcdef", schema::JobStatus::kSuccess).status, 200);
}

TEST_F(ControllerApiTest, FailureSkipsLaterStagesRunsOnFailureJobsAndRetryRecovers) {
  std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml", R"(stages: [a, b]
build:
  stage: a
  script: [x]
after:
  stage: b
  script: [y]
report:
  stage: b
  when: on_failure
  script: [z]
)"}});
  create_project("demo", repo);
  int64_t id = trigger("demo");
  auto agent = register_agent();
  auto lease = agent->poll(0);
  ASSERT_TRUE(lease);
  run_job(*agent, *lease, schema::JobStatus::kFailed);
  auto report = agent->poll(0);
  ASSERT_TRUE(report);
  EXPECT_EQ((*report).at("spec").at("job").at("name"), "report");
  run_job(*agent, *report);
  Json p = pipeline(id);
  EXPECT_EQ(p.value("status", ""), "failed");
  EXPECT_EQ(p.at("jobs")[1].value("status", ""), "skipped");
  EXPECT_EQ(p.at("jobs")[0].value("failure_reason", ""), "script_failure");
  ApiReply retry = admin("POST", "/api/v1/pipelines/" + std::to_string(id) + "/retry");
  ASSERT_EQ(retry.status, 200) << retry.raw;
  auto again = agent->poll(0);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again).at("attempt").get<int>(), 2);
  run_job(*agent, *again);
  auto after = agent->poll(0);
  ASSERT_TRUE(after);
  EXPECT_EQ((*after).at("spec").at("job").at("name"), "after");
  run_job(*agent, *after);
  EXPECT_EQ(pipeline(id).value("status", ""), "success");
}

TEST_F(ControllerApiTest, ManualJobWaitsForPlayAndCancelReachesTheAgent) {
  std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml", R"(deploy:
  when: manual
  allow_failure: false
  script: [x]
)"}});
  create_project("demo", repo);
  int64_t id = trigger("demo");
  Json p = pipeline(id);
  EXPECT_EQ(p.value("status", ""), "manual");
  int64_t job = p.at("jobs")[0].value("id", int64_t{0});
  auto agent = register_agent();
  EXPECT_FALSE(agent->poll(0));
  EXPECT_EQ(admin("POST", "/api/v1/jobs/" + std::to_string(job) + "/retry").status, 409);
  ASSERT_EQ(admin("POST", "/api/v1/jobs/" + std::to_string(job) + "/play").status, 200);
  EXPECT_EQ(admin("POST", "/api/v1/jobs/" + std::to_string(job) + "/play").status, 409);
  auto lease = agent->poll(0);
  ASSERT_TRUE(lease);
  ASSERT_EQ(admin("POST", "/api/v1/pipelines/" + std::to_string(id) + "/cancel").status, 200);
  ApiReply hb = agent->heartbeat(job, 1);
  EXPECT_EQ(hb.status, 200);
  EXPECT_EQ(hb.body.value("cancel", false), true);
  EXPECT_EQ(agent->finish(job, 1, "", schema::JobStatus::kCanceled).status, 200);
  EXPECT_EQ(pipeline(id).value("status", ""), "canceled");
}

TEST_F(ControllerApiTest, DelayedJobIsScheduledAndPendingAtItsTimeAcrossARestart) {
  std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml", R"(stages: [build, deploy]
build:
  stage: build
  script: [make]
later:
  stage: deploy
  when: delayed
  start_in: 1 minute
  script: [deploy]
)"}});
  create_project("demo", repo);
  int64_t id = trigger("demo");
  auto agent = register_agent();
  auto lease = agent->poll(0);
  ASSERT_TRUE(lease);
  run_job(*agent, *lease);
  Json p = pipeline(id);
  Json later = p.at("jobs")[1];
  EXPECT_EQ(later.value("status", ""), "scheduled");
  EXPECT_TRUE(later.at("scheduled_at").is_string()) << later.dump();
  EXPECT_EQ(p.value("status", ""), "scheduled");
  EXPECT_FALSE(agent->poll(0));
  int64_t job = later.value("id", int64_t{0});

  // The time is in the database: a restart neither loses nor restarts the wait.
  uint16_t port = daemon_->port();
  daemon_.reset();
  start(port);
  agent->api().set_url(daemon_->url());
  daemon_->controller().tick();
  EXPECT_EQ(admin("GET", "/api/v1/jobs/" + std::to_string(job)).body.value("status", ""),
            "scheduled");
  EXPECT_FALSE(agent->poll(0));

  clock_offset_ms_ += 61'000;  // past start_in, by the controller's clock
  daemon_->controller().tick();
  Json j = admin("GET", "/api/v1/jobs/" + std::to_string(job)).body;
  EXPECT_EQ(j.value("status", ""), "pending");
  EXPECT_TRUE(j.at("scheduled_at").is_null());
  auto second = agent->poll(0);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->at("job_id").get<int64_t>(), job);
  run_job(*agent, *second);
  EXPECT_EQ(pipeline(id).value("status", ""), "success");
}

TEST_F(ControllerApiTest, ScheduledJobIsPlayedNowOrUnscheduledToManual) {
  std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml", R"(now:
  when: delayed
  start_in: 1 hour
  script: [a]
held:
  when: delayed
  start_in: 1 hour
  script: [b]
)"}});
  create_project("demo", repo);
  int64_t id = trigger("demo");
  Json p = pipeline(id);
  int64_t now_job = p.at("jobs")[0].value("id", int64_t{0});
  int64_t held_job = p.at("jobs")[1].value("id", int64_t{0});
  auto agent = register_agent();
  EXPECT_FALSE(agent->poll(0));
  std::string now_path = "/api/v1/jobs/" + std::to_string(now_job);
  std::string held_path = "/api/v1/jobs/" + std::to_string(held_job);
  ApiReply played = admin("POST", now_path + "/play");
  ASSERT_EQ(played.status, 200) << played.raw;
  EXPECT_EQ(played.body.value("status", ""), "pending");
  auto lease = agent->poll(0);
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->at("job_id").get<int64_t>(), now_job);
  run_job(*agent, *lease);

  ApiReply unscheduled = admin("POST", held_path + "/unschedule");
  ASSERT_EQ(unscheduled.status, 200) << unscheduled.raw;
  EXPECT_EQ(unscheduled.body.value("status", ""), "manual");
  EXPECT_EQ(admin("POST", held_path + "/unschedule").status, 409);
  clock_offset_ms_ += 2 * 3600 * 1000;  // its old time passes: it stays manual
  daemon_->controller().tick();
  EXPECT_EQ(admin("GET", held_path).body.value("status", ""), "manual");
  EXPECT_FALSE(agent->poll(0));
  ASSERT_EQ(admin("POST", held_path + "/play").status, 200);
  auto held = agent->poll(0);
  ASSERT_TRUE(held);
  run_job(*agent, *held);
  EXPECT_EQ(pipeline(id).value("status", ""), "success");

  // Canceling a pipeline cancels its scheduled jobs: they never become pending.
  int64_t second = trigger("demo");
  ASSERT_EQ(pipeline(second).value("status", ""), "scheduled");
  ASSERT_EQ(admin("POST", "/api/v1/pipelines/" + std::to_string(second) + "/cancel").status, 200);
  Json canceled = pipeline(second);
  EXPECT_EQ(canceled.value("status", ""), "canceled");
  for (const auto& j : canceled.at("jobs")) EXPECT_EQ(j.value("status", ""), "canceled");
  clock_offset_ms_ += 2 * 3600 * 1000;
  daemon_->controller().tick();
  EXPECT_FALSE(agent->poll(0));
}

TEST_F(ControllerApiTest, LogFollowerIsAnsweredWhenBytesArrive) {
  trigger_one_job_pipeline();
  auto agent = register_agent();
  auto lease = agent->poll(0);
  ASSERT_TRUE(lease);
  int64_t job = (*lease).at("job_id").get<int64_t>();
  ApiReply followed;
  std::thread follower([&] {
    ApiClient api(daemon_->url());
    followed = api.call("GET", "/api/v1/jobs/" + std::to_string(job) + "/log?offset=0&wait=30",
                        admin_);
  });
  ASSERT_EQ(agent->append(job, 1, 0, "hello\n").status, 200);
  follower.join();
  EXPECT_EQ(followed.status, 200);
  EXPECT_EQ(followed.raw, "hello\n");
  EXPECT_EQ(followed.headers.get("X-Log-Next-Offset"), "6");
  EXPECT_EQ(followed.headers.get("X-Log-Complete"), "false");
}

TEST_F(ControllerApiTest, AFinishedLogReadInPiecesIsCompleteOnlyAtItsEnd) {
  trigger_one_job_pipeline();
  auto agent = register_agent();
  auto lease = agent->poll(0);
  ASSERT_TRUE(lease);
  int64_t job = (*lease).at("job_id").get<int64_t>();
  std::string log = run_job(*agent, *lease);
  ASSERT_GT(log.size(), 8u);
  std::string read;
  uint64_t offset = 0;
  for (int piece = 0;; ++piece) {
    ASSERT_LT(piece, 100) << "the log never said it was complete";
    ApiReply r = admin("GET", "/api/v1/jobs/" + std::to_string(job) +
                                  "/log?limit=8&offset=" + std::to_string(offset));
    ASSERT_EQ(r.status, 200) << r.raw;
    read += r.raw;
    offset = std::stoull(r.headers.get("X-Log-Next-Offset").value_or("0"));
    bool complete = r.headers.get("X-Log-Complete") == "true";
    EXPECT_EQ(complete, offset == log.size()) << "at offset " << offset;
    if (complete) break;
  }
  EXPECT_EQ(read, log);
}

TEST_F(ControllerApiTest, ArtifactsGoUpAndComeDownByLocator) {
  std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml", R"(stages: [a, b]
build:
  stage: a
  script: [x]
  artifacts:
    paths: [out/]
use:
  stage: b
  script: [y]
)"}});
  create_project("demo", repo);
  trigger("demo");
  auto agent = register_agent();
  auto lease = agent->poll(0);
  ASSERT_TRUE(lease);
  int64_t job = (*lease).at("job_id").get<int64_t>();
  std::string tar(2048, 'T');
  ApiReply up =
      agent->api().call("PUT", "/api/v1/agent/jobs/" + std::to_string(job) + "/artifacts?attempt=1",
                        agent->token(), tar);
  ASSERT_EQ(up.status, 201) << up.raw;
  EXPECT_EQ(up.body.value("digest", ""), "sha256:" + sha256_hex(tar));
  run_job(*agent, *lease);
  auto next = agent->poll(0);
  ASSERT_TRUE(next);
  const Json& deps = (*next).at("spec").at("dependencies");
  ASSERT_EQ(deps.size(), 1u);
  std::string locator = deps[0].value("locator", "");
  EXPECT_EQ(locator, "/api/v1/agent/jobs/" + std::to_string(job) + "/artifacts");
  ApiReply down = agent->api().call("GET", locator, agent->token());
  EXPECT_EQ(down.status, 200);
  EXPECT_EQ(down.raw, tar);
  EXPECT_EQ(admin("GET", "/api/v1/jobs/" + std::to_string(job) + "/artifacts").raw, tar);
}

TEST_F(ControllerApiTest, ResourceGroupRunsOneJobAtATime) {
  std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml", R"(deploy-a:
  resource_group: prod
  script: [x]
deploy-b:
  resource_group: prod
  script: [y]
)"}});
  create_project("demo", repo);
  int64_t id = trigger("demo");
  auto agent = register_agent();
  auto first = agent->poll(0);
  ASSERT_TRUE(first);
  EXPECT_FALSE(agent->poll(0)) << "the group is busy";
  run_job(*agent, *first);
  auto second = agent->poll(0);
  ASSERT_TRUE(second);
  run_job(*agent, *second);
  EXPECT_EQ(pipeline(id).value("status", ""), "success");
}

TEST_F(ControllerApiTest, NewPipelineAutoCancelsAnOlderOneWhoseStartedJobsAreInterruptible) {
  std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml", R"(stages: [a, b]
first:
  stage: a
  interruptible: true
  script: [x]
second:
  stage: b
  script: [y]
)"}});
  create_project("demo", repo);
  auto agent = register_agent();
  int64_t p1 = trigger("demo");
  auto lease = agent->poll(0);
  ASSERT_TRUE(lease);
  int64_t p2 = trigger("demo");
  EXPECT_EQ(pipeline(p1).value("status", ""), "canceled");
  int64_t job = (*lease).at("job_id").get<int64_t>();
  ApiReply hb = agent->heartbeat(job, 1);
  EXPECT_TRUE(hb.body.value("cancel", false));
  // p2 gets as far as a started job that is not interruptible: a newer pipeline leaves it.
  auto first = agent->poll(0);
  ASSERT_TRUE(first);
  EXPECT_EQ((*first).at("spec").value("pipeline_id", int64_t{0}), p2);
  run_job(*agent, *first);
  auto second = agent->poll(0);
  ASSERT_TRUE(second);
  trigger("demo");
  EXPECT_EQ(pipeline(p2).value("status", ""), "running");
}

TEST_F(ControllerApiTest, RestartKeepsEverythingAndThePipelineCompletes) {
  std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml", kStagesNeedsMatrix}});
  create_project("demo", repo);
  int64_t id = trigger("demo");
  auto agent = register_agent();
  auto lease = agent->poll(0);
  ASSERT_TRUE(lease);
  int64_t job = (*lease).at("job_id").get<int64_t>();
  ASSERT_EQ(agent->append(job, 1, 0, "before restart\n").status, 200);
  uint16_t port = daemon_->port();
  daemon_.reset();  // the controller goes away mid-job
  start(port);
  agent->api().set_url(daemon_->url());
  // The chunk whose answer was lost is resent: refused with the stored size, then resumed.
  ApiReply resent = agent->append(job, 1, 0, "before restart\n");
  EXPECT_EQ(resent.status, 409);
  EXPECT_EQ(resent.body.value("size", 0), 15);
  ASSERT_EQ(agent->append(job, 1, 15, "after restart\n").status, 200);
  ASSERT_EQ(agent->finish(job, 1, "before restart\nafter restart\n", schema::JobStatus::kSuccess)
                .status,
            200);
  for (int i = 0; i < 4; ++i) {
    auto next = agent->poll();
    ASSERT_TRUE(next) << pipeline(id).dump();
    run_job(*agent, *next);
  }
  EXPECT_EQ(pipeline(id).value("status", ""), "success");
  EXPECT_EQ(admin("GET", "/api/v1/jobs/" + std::to_string(job) + "/log").raw,
            "before restart\nafter restart\n");
}

TEST_F(ControllerApiTest, FiftyPipelinesTriggeredAtOnceAllFinish) {
  std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml", R"(stages: [a, b]
one:
  stage: a
  script: [x]
two:
  stage: b
  script: [y]
)"}});
  // One branch per pipeline: pipelines of one branch would auto-cancel the older ones.
  constexpr int kPipelines = 50;
  for (int i = 0; i < kPipelines; ++i) testing::run_git(repo, {"branch", "b" + std::to_string(i)});
  create_project("demo", repo);
  std::vector<int64_t> ids(kPipelines);
  std::vector<std::thread> triggers;
  for (int t = 0; t < 5; ++t) {
    triggers.emplace_back([&, t] {
      ApiClient api(daemon_->url());
      for (int i = t; i < kPipelines; i += 5) {
        ApiReply r = api.call("POST", "/api/v1/pipelines", admin_,
                              Json{{"project", "demo"}, {"ref", "b" + std::to_string(i)}}.dump());
        EXPECT_EQ(r.status, 201) << r.raw;
        ids[i] = r.body.value("id", int64_t{0});
      }
    });
  }
  std::atomic<int> done{0};
  std::vector<std::thread> agents;
  for (int a = 0; a < 4; ++a) {
    std::string token = register_agent()->token();
    agents.emplace_back([&, token] {
      FakeAgent mine(daemon_->url(), token);
      // Bounded: a run that stops getting jobs ends after 20 empty long-polls and fails below.
      for (int idle = 0; done.load() < 2 * kPipelines && idle < 20;) {
        auto lease = mine.poll(1);
        if (!lease) {
          ++idle;
          continue;
        }
        idle = 0;
        run_job(mine, *lease);
        ++done;
      }
    });
  }
  for (auto& t : triggers) t.join();
  for (auto& t : agents) t.join();
  EXPECT_EQ(done.load(), 2 * kPipelines);
  ApiReply list = admin("GET", "/api/v1/pipelines?project=demo&limit=500");
  ASSERT_EQ(list.body.at("pipelines").size(), static_cast<size_t>(kPipelines));
  for (const auto& p : list.body.at("pipelines")) {
    EXPECT_EQ(p.value("status", ""), "success") << p.dump();
  }
}

// Waits (a guard against a hang, not a timing check) until `done` holds.
template <typename Pred>
bool eventually(Pred done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Many idle agents cost the controller no database work per poll: the held polls share one
// read of the pending jobs. A job that becomes pending then goes to exactly one of them; the
// others keep waiting.
TEST_F(ControllerApiTest, HeldPollsShareOneScanAndOneJobWakesExactlyOnePoll) {
  std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml", "job:\n  script: [x]\n"}});
  create_project("demo", repo);
  constexpr int kPolls = 24;
  std::vector<std::unique_ptr<FakeAgent>> agents;
  for (int i = 0; i < kPolls; ++i) agents.push_back(register_agent());
  Controller& c = daemon_->controller();
  uint64_t scans_before = c.dispatch_stats().job_scans;
  std::vector<std::optional<Json>> leases(kPolls);
  std::atomic<int> answered{0};
  std::vector<std::thread> polls;
  for (int i = 0; i < kPolls; ++i) {
    polls.emplace_back([&, i] {
      leases[static_cast<size_t>(i)] = agents[static_cast<size_t>(i)]->poll(30);
      ++answered;
    });
  }
  ASSERT_TRUE(eventually([&] { return c.dispatch_stats().waiting_polls == kPolls; }));
  EXPECT_LE(c.dispatch_stats().job_scans - scans_before, 1u)
      << "each held poll read the pending jobs again";
  EXPECT_EQ(answered.load(), 0);

  int64_t id = trigger("demo");  // the job is leased before this returns
  EXPECT_EQ(c.dispatch_stats().waiting_polls, static_cast<size_t>(kPolls - 1));
  bool one = eventually([&] { return answered.load() == 1; });
  int64_t job = pipeline(id).at("jobs")[0].value("id", int64_t{0});
  daemon_->stop();  // the rest are answered 204
  for (auto& t : polls) t.join();
  ASSERT_TRUE(one);
  int got = 0;
  for (const auto& l : leases) {
    if (!l) continue;
    ++got;
    EXPECT_EQ(l->at("job_id").get<int64_t>(), job);
  }
  EXPECT_EQ(got, 1);
}

// An agent that keeps its lease with heartbeats but never reports: the controller fails the
// attempt once its timeout and the grace have passed, and refuses the attempt's later calls.
// A canceled job keeps its lease while its agent stops it and reports; an agent that falls
// silent loses the lease when it lapses, one that only heartbeats loses it after the grace.
TEST_F(ControllerApiTest, CanceledJobOfASilentOrWedgedAgentGivesUpItsLease) {
  for (bool heartbeats : {false, true}) {
    SCOPED_TRACE(heartbeats ? "agent heartbeats but never reports" : "agent falls silent");
    std::string project = heartbeats ? "wedged" : "silent";
    create_project(project,
                   make_repo(dir_, project, {{".gantry-ci.yml", "job:\n  script: [x]\n"}}));
    int64_t id = trigger(project);
    auto agent = register_agent();
    auto lease = agent->poll(0);
    ASSERT_TRUE(lease);
    int64_t job = lease->at("job_id").get<int64_t>();
    ASSERT_EQ(agent->append(job, 1, 0, "working\n").status, 200);
    ASSERT_EQ(admin("POST", "/api/v1/pipelines/" + std::to_string(id) + "/cancel").status, 200);
    ApiReply told = agent->heartbeat(job, 1);
    ASSERT_EQ(told.status, 200) << told.raw;
    EXPECT_TRUE(told.body.value("cancel", false));
    if (heartbeats) {
      // 600 s of grace in heartbeats 50 s apart: the lease holds until the grace is over.
      for (int step = 1; step <= 11; ++step) {
        clock_offset_ms_ += 50'000;
        ASSERT_EQ(agent->heartbeat(job, 1).status, 200) << "step " << step;
        daemon_->controller().tick();
      }
      clock_offset_ms_ += 60'000;
      ASSERT_EQ(agent->heartbeat(job, 1).status, 200);
    } else {
      clock_offset_ms_ += 61'000;  // past the 60 s lease
    }
    daemon_->controller().tick();
    Json j = pipeline(id).at("jobs")[0];
    EXPECT_EQ(j.value("status", ""), "canceled");
    EXPECT_EQ(j.value("log_size", 0u), 8u) << "the log the controller holds is recorded";
    ApiReply hb = agent->heartbeat(job, 1);
    EXPECT_EQ(hb.status, 409) << hb.raw;
    EXPECT_EQ(hb.body.value("code", ""), "stale_attempt");
    EXPECT_EQ(agent->append(job, 1, 8, "more\n").status, 409);
    EXPECT_EQ(agent->finish(job, 1, "working\n", schema::JobStatus::kCanceled).status, 409);
    EXPECT_EQ(admin("GET", "/api/v1/jobs/" + std::to_string(job) + "/log").raw, "working\n");
  }
}

TEST_F(ControllerApiTest, WedgedAgentsJobFailsWithJobExecutionTimeoutOnTheController) {
  std::string repo = make_repo(dir_, "repo", {{".gantry-ci.yml",
                                               "job:\n  timeout: 10 minutes\n  script: [x]\n"}});
  create_project("demo", repo);
  int64_t id = trigger("demo");
  auto agent = register_agent();
  auto lease = agent->poll(0);
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->at("spec").value("default_timeout_seconds", 0), 3600);
  int64_t job = lease->at("job_id").get<int64_t>();
  ASSERT_EQ(agent->append(job, 1, 0, "working\n").status, 200);
  // 10 minutes of timeout + 10 of grace, in heartbeats 50 s apart (the lease is 60 s).
  for (int step = 1; step <= 23; ++step) {
    clock_offset_ms_ += 50'000;
    ASSERT_EQ(agent->heartbeat(job, 1).status, 200) << "step " << step;
    daemon_->controller().tick();
  }
  EXPECT_EQ(pipeline(id).at("jobs")[0].value("status", ""), "running");  // 1,150 s: not yet
  clock_offset_ms_ += 50'000;
  daemon_->controller().tick();
  Json p = pipeline(id);
  EXPECT_EQ(p.value("status", ""), "failed");
  EXPECT_EQ(p.at("jobs")[0].value("status", ""), "failed");
  EXPECT_EQ(p.at("jobs")[0].value("failure_reason", ""), "job_execution_timeout");
  EXPECT_EQ(p.at("jobs")[0].value("log_size", 0u), 8u);
  // The wedged agent hears of it at its next heartbeat and stops; nothing else is taken.
  ApiReply hb = agent->heartbeat(job, 1);
  EXPECT_EQ(hb.status, 409);
  EXPECT_EQ(hb.body.value("code", ""), "stale_attempt");
  ApiReply late = agent->append(job, 1, 8, "more\n");
  EXPECT_EQ(late.status, 409);
  EXPECT_EQ(late.body.value("code", ""), "stale_attempt");
  ApiReply fin = agent->finish(job, 1, "working\n", schema::JobStatus::kSuccess, 0);
  EXPECT_EQ(fin.status, 409) << fin.raw;
  EXPECT_EQ(pipeline(id).at("jobs")[0].value("status", ""), "failed");
}

// A timed-out job with `retry: when: stuck_or_timeout_failure` is queued again instead.
TEST_F(ControllerApiTest, ControllerTimeoutIsRetriedUnderStuckOrTimeoutFailure) {
  std::string repo = make_repo(
      dir_, "repo",
      {{".gantry-ci.yml",
        "job:\n  timeout: 1 minute\n  retry:\n    max: 1\n    when: stuck_or_timeout_failure\n"
        "  script: [x]\n"}});
  create_project("demo", repo);
  int64_t id = trigger("demo");
  auto agent = register_agent();
  auto lease = agent->poll(0);
  ASSERT_TRUE(lease);
  int64_t job = lease->at("job_id").get<int64_t>();
  for (int step = 1; step <= 14; ++step) {  // 60 s + 600 s grace, 50 s at a time
    clock_offset_ms_ += 50'000;
    ASSERT_EQ(agent->heartbeat(job, 1).status, 200);
    daemon_->controller().tick();
  }
  EXPECT_EQ(pipeline(id).at("jobs")[0].value("status", ""), "pending");
  auto again = agent->poll(0);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->at("attempt").get<int>(), 2);
  run_job(*agent, *again);
  EXPECT_EQ(pipeline(id).value("status", ""), "success");
}

// `gantry controller` as a process: started, SIGKILLed mid-job, started again on its port.
class ControllerProcess {
 public:
  ControllerProcess(const std::string& data, const std::string& listen) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    std::vector<std::string> args = {GANTRY_BIN, "controller", "--listen", listen, "--data", data};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, GANTRY_BIN, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = fds[0];
    if (rc != 0) {
      pid_ = -1;
      return;
    }
    // Its stdout, up to the line that says where it listens (EOF if it died first).
    std::string text;
    char buf[512];
    const std::string marker = "controller listening on ";
    auto complete = [&] {
      auto at = text.find(marker);
      return at != std::string::npos && text.find('\n', at) != std::string::npos;
    };
    while (!complete()) {
      ssize_t n = ::read(out_, buf, sizeof(buf));
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
    auto at = text.find(marker);
    if (at != std::string::npos) {
      url_ = text.substr(at + marker.size());
      url_ = url_.substr(0, url_.find('\n'));
    }
  }
  ~ControllerProcess() { kill(SIGKILL); }
  void kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    if (out_ >= 0) ::close(out_);
    out_ = -1;
  }
  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string url_;
};

TEST(ControllerProcessTest, KilledAndRestartedMidPipelineLosesAndRepeatsNoLogByte) {
  testing::TempDir dir;
  std::string data = dir.file("data");
  auto first = std::make_unique<ControllerProcess>(data, "127.0.0.1:0");
  ASSERT_FALSE(first->url().empty()) << "the controller did not start";
  std::string admin = read_file(data + "/admin.token").value_or("");
  admin = admin.substr(0, admin.find('\n'));
  std::string registration = read_file(data + "/registration.token").value_or("");
  registration = registration.substr(0, registration.find('\n'));
  ApiClient api(first->url());
  std::string repo = make_repo(dir, "repo", {{".gantry-ci.yml", R"(stages: [a, b]
one:
  stage: a
  script: [x]
two:
  stage: b
  script: [y]
)"}});
  ASSERT_EQ(api.call("POST", "/api/v1/projects", admin,
                     Json{{"name", "demo"}, {"repo_url", repo}}.dump())
                .status,
            201);
  ApiReply p = api.call("POST", "/api/v1/pipelines", admin, Json{{"project", "demo"}}.dump());
  ASSERT_EQ(p.status, 201) << p.raw;
  int64_t id = p.body.value("id", int64_t{0});
  ApiReply reg = api.call("POST", "/api/v1/agent/register", registration, "{}");
  ASSERT_EQ(reg.status, 201);
  FakeAgent agent(first->url(), reg.body.value("token", ""));
  auto lease = agent.poll(0);
  ASSERT_TRUE(lease);
  int64_t job = (*lease).at("job_id").get<int64_t>();
  ASSERT_EQ(agent.append(job, 1, 0, "one\n").status, 200);

  std::string listen = first->url().substr(std::string("http://").size());
  first->kill(SIGKILL);
  ControllerProcess second(data, listen);
  ASSERT_EQ(second.url(), first->url());
  agent.api().set_url(second.url());
  api.set_url(second.url());
  ApiReply resent = agent.append(job, 1, 0, "one\n");
  EXPECT_EQ(resent.status, 409);
  EXPECT_EQ(resent.body.value("size", 0), 4);
  ASSERT_EQ(agent.append(job, 1, 4, "two\n").status, 200);
  ASSERT_EQ(agent.finish(job, 1, "one\ntwo\n", schema::JobStatus::kSuccess).status, 200);
  auto next = agent.poll();
  ASSERT_TRUE(next);
  run_job(agent, *next);
  ApiReply done = api.call("GET", "/api/v1/pipelines/" + std::to_string(id), admin);
  EXPECT_EQ(done.body.value("status", ""), "success") << done.raw;
  EXPECT_EQ(api.call("GET", "/api/v1/jobs/" + std::to_string(job) + "/log", admin).raw,
            "one\ntwo\n");
  second.kill(SIGTERM);
}

}  // namespace
}  // namespace gantry::controller
