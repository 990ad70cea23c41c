// Controller and agents end to end on 127.0.0.1: an in-process controller (its clock under the
// test's control, so leases lapse without waiting), two `gantry agent` processes with different
// labels, each with its own state root holding a busybox image, and a project in a local bare
// git repository. Real containers run the jobs.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <thread>

#include "agent/container_manager.h"
#include "agent/remote/api_transport.h"
#include "common/child_process.h"
#include "common/file.h"
#include "controller/daemon.h"
#include "runtime/image/import.h"
#include "runtime/image/image_store.h"
#include "tests/support/bundle.h"
#include "tests/support/busybox_image.h"
#include "tests/support/controller_harness.h"
#include "tests/support/temp_dir.h"

namespace gantry {
namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class AgentsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!testing::have_static_busybox()) GTEST_SKIP() << "needs busybox-static";
    controller::DaemonOptions o;
    o.controller.data_dir = dir_.file("controller");
    o.controller.heartbeat = std::chrono::seconds(1);
    o.controller.clock = [this] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count() +
             clock_offset_ms_.load();
    };
    o.port = 0;
    auto d = controller::Daemon::start(o);
    ASSERT_TRUE(d.ok()) << d.error().message();
    controller_ = std::move(*d);
    admin_token_ = trimmed(read_file(dir_.file("controller/admin.token")).value_or(""));
    registration_ = trimmed(read_file(dir_.file("controller/registration.token")).value_or(""));
    auto t = agent::HttpApiTransport::create(controller_->url(), admin_token_);
    ASSERT_TRUE(t.ok());
    admin_ = std::move(*t);
  }

  void TearDown() override {
    for (auto& [name, a] : agents_) {
      if (a.process) {
        // SIGTERM: the agent's own shutdown; SIGKILL only if it does not end in time.
        (void)a.process->signal(SIGTERM);
        auto r = a.process->wait(std::chrono::steady_clock::now() + std::chrono::seconds(60));
        if (r != ChildProcess::WaitResult::kExited) (void)a.process->signal(SIGKILL);
        a.process->reap();
      }
      // Containers a killed agent left running are stopped and removed here.
      agent::ManagerOptions mo;
      mo.root = a.root;
      mo.oci_runtime = GANTRY_BIN;
      auto m = agent::ContainerManager::open(mo);
      if (!m.ok()) continue;
      auto all = (*m)->list();
      if (all.ok()) {
        for (const auto& c : *all) EXPECT_TRUE((*m)->remove(c.id).ok());
      }
    }
    if (controller_) controller_->stop();
  }

  struct Agent {
    std::string root;
    std::optional<ChildProcess> process;
  };

  // Starts `gantry agent` with its own root (busybox imported as localhost/busybox:1).
  void start_agent(const std::string& name, const std::string& labels) {
    Agent& a = agents_[name];
    a.root = dir_.file(name);
    runtime::image::ImportOptions io;
    io.env = {"PATH=/bin"};
    ASSERT_NO_FATAL_FAILURE(
        testing::import_busybox_image(a.root, bundle_.rootfs(), "localhost/busybox:1", io));
    int log_fd =
        ::open(dir_.file(name + ".log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(log_fd, 0);
    auto p = ChildProcess::spawn({GANTRY_BIN, "--root", a.root, "--log-level", "info", "agent",
                                  "--controller", controller_->url(), "--token", registration_,
                                  "--name", name, "--labels", labels, "--network", "none",
                                  "--poll-wait", "1", "--grace", "5"},
                                 ChildStdio{-1, log_fd, log_fd});
    ::close(log_fd);
    ASSERT_TRUE(p.ok()) << p.error().message();
    a.process.emplace(std::move(*p));
  }

  Json api(const std::string& method, const std::string& path, const Json* body = nullptr) {
    auto r = agent::call_json(*admin_, method + " " + path, method, path, body);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? *r : Json();
  }

  int64_t trigger(const std::string& yaml) {
    testing::make_bare_git_repo(dir_.file("work"), dir_.file("demo.git"),
                                {{".gitlab-ci.yml", yaml}, {"input.txt", "from the repository\n"}});
    Json p = {{"name", "demo"}, {"repo_url", dir_.file("demo.git")}};
    api("POST", "/api/v1/projects", &p);
    Json t = {{"project", "demo"}};
    return api("POST", "/api/v1/pipelines", &t).value("id", int64_t{0});
  }

  // Polls until `done(pipeline)` or a minute passes.
  Json wait_pipeline(int64_t id, const std::function<bool(const Json&)>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    for (;;) {
      Json p = api("GET", "/api/v1/pipelines/" + std::to_string(id));
      if (done(p)) return p;
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "timed out waiting; pipeline: " << p.dump(2);
        return p;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  static bool finished(const Json& p) {
    std::string s = p.value("status", "");
    return s == "success" || s == "failed" || s == "canceled";
  }
  std::string log_of(int64_t job) {
    agent::ApiRequest req;
    req.path = "/api/v1/jobs/" + std::to_string(job) + "/log";
    auto r = admin_->send(req);
    return r.ok() ? r->body : "";
  }
  static const Json& job(const Json& p, const std::string& name) {
    for (const auto& j : p["jobs"]) {
      if (j["name"] == name) return j;
    }
    static Json none;
    ADD_FAILURE() << "no job " << name << " in " << p.dump(2);
    return none;
  }

  testing::TempDir dir_;
  testing::TestBundle bundle_;
  std::atomic<int64_t> clock_offset_ms_{0};
  std::unique_ptr<controller::Daemon> controller_;
  std::unique_ptr<agent::HttpApiTransport> admin_;
  std::string admin_token_, registration_;
  std::map<std::string, Agent> agents_;
};

TEST_F(AgentsE2eTest, ROOT_PipelineWithStagesNeedsMatrixArtifactsAndTagsSucceeds) {
  int64_t id = trigger(
      "default:\n  image: localhost/busybox:1\n"
      "stages: [build, test, deploy]\n"
      "build:\n  stage: build\n  script:\n    - mkdir -p out\n"
      "    - cat input.txt > out/result.txt\n    - echo built\n"
      "  artifacts:\n    paths: [out/]\n"
      "test:\n  stage: test\n  needs: [build]\n"
      "  parallel:\n    matrix:\n      - FLAVOR: [a, b]\n"
      "  script:\n    - cat out/result.txt\n    - echo \"flavor $FLAVOR\"\n"
      "special:\n  stage: test\n  tags: [special]\n  script:\n    - echo tagged\n"
      "deploy:\n  stage: deploy\n  script:\n    - echo deployed\n");
  ASSERT_GT(id, 0);
  start_agent("plain", "linux");
  start_agent("special", "linux,special");
  Json p = wait_pipeline(id, finished);
  ASSERT_EQ(p.value("status", ""), "success") << p.dump(2);
  // The controller accepted every result only with the log size and sha256 the agent's log sink
  // saw, so success means each log arrived byte for byte; these check what the jobs printed.
  EXPECT_NE(log_of(job(p, "build")["id"]).find("\nbuilt\n"), std::string::npos);
  std::string a = log_of(job(p, "test: [a]")["id"]);
  EXPECT_NE(a.find("\nfrom the repository\n"), std::string::npos) << a;
  EXPECT_NE(a.find("\nflavor a\n"), std::string::npos) << a;
  EXPECT_NE(log_of(job(p, "test: [b]")["id"]).find("\nflavor b\n"), std::string::npos);
  EXPECT_EQ(job(p, "special")["agent"]["name"], "special");
  EXPECT_NE(log_of(job(p, "deploy")["id"]).find("\ndeployed\n"), std::string::npos);
}

TEST_F(AgentsE2eTest, ROOT_KilledAgentIsLostOrRetriedAndCancelLeavesNoContainer) {
  int64_t id = trigger(
      "default:\n  image: localhost/busybox:1\n"
      "once:\n  script:\n    - echo started\n    - sleep 300\n"
      "again:\n  retry: 1\n  script:\n    - echo started\n    - sleep 300\n");
  ASSERT_GT(id, 0);
  start_agent("first", "linux");
  // Both jobs run on the first agent (concurrency 1: one after the other would block, so
  // wait for the first to start, then start a second agent for the other).
  Json p = wait_pipeline(id, [&](const Json& p) {
    for (const auto& j : p["jobs"]) {
      if (j["status"] == "running" && log_of(j["id"]).find("\nstarted\n") != std::string::npos)
        return true;
    }
    return false;
  });
  ASSERT_EQ(agents_["first"].process->signal(SIGKILL).ok(), true);
  agents_["first"].process->reap();
  agents_["first"].process.reset();
  std::string killed_job;
  for (const auto& j : p["jobs"]) {
    if (j["status"] == "running") killed_job = j["name"];
  }
  // The lease lapses when the controller's clock passes it.
  clock_offset_ms_ += 10 * 60 * 1000;
  p = wait_pipeline(id, [&](const Json& p) {
    const Json& j = job(p, killed_job);
    return j["status"] == "failed" || j.value("attempt", 0) >= 2;
  });
  const Json& k = job(p, killed_job);
  if (killed_job == "once") {
    EXPECT_EQ(k["status"], "failed");
    EXPECT_EQ(k["failure_reason"], "agent_lost");
  } else {
    EXPECT_EQ(k.value("attempt", 0), 2) << k.dump(2);
    EXPECT_NE(k["status"], "failed");
  }
  // A second agent picks up what is pending; cancel the pipeline while its job sleeps.
  start_agent("second", "linux");
  p = wait_pipeline(id, [&](const Json& p) {
    for (const auto& j : p["jobs"]) {
      if (j["status"] == "running" && j["agent"].is_object() && j["agent"]["name"] == "second")
        return true;
    }
    return false;
  });
  api("POST", "/api/v1/pipelines/" + std::to_string(id) + "/cancel");
  p = wait_pipeline(id, finished);
  // A job that failed (agent_lost) keeps the pipeline "failed"; the sleeping job is canceled.
  for (const auto& j : p["jobs"]) {
    if (j["agent"].is_object() && j["agent"]["name"] == "second") {
      EXPECT_EQ(j["status"], "canceled");
    }
  }
  // The second agent stops its container when its heartbeat hears of the cancel: wait until it
  // has reported (the job's log is complete), then nothing of it may be running.
  agent::ManagerOptions mo;
  mo.root = agents_["second"].root;
  mo.oci_runtime = GANTRY_BIN;
  auto m = agent::ContainerManager::open(mo);
  ASSERT_TRUE(m.ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto all = (*m)->list();
    ASSERT_TRUE(all.ok());
    if (all->empty()) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "a container is still there";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace
}  // namespace gantry
