// The JobExecutor's decisions without containers (FakeContainerManager): how container exits
// and errors become JobResults, what the job's container is given (env, mounts, command), pull
// policies, after_script, artifacts:when, and that every container and workspace is removed.
#include "agent/job_executor.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "agent/artifact_store.h"
#include "agent/job_script.h"
#include "agent/tar_archive.h"
#include "common/file.h"
#include "tests/fakes/fake_container_manager.h"
#include "tests/support/temp_dir.h"

namespace gantry::agent {
namespace {

using schema::FailureReason;
using schema::JobResult;
using schema::JobSpec;
using schema::JobStatus;
using Step = testing::FakeContainerManager::Step;

class StringSink : public LogSink {
 public:
  void write(std::string_view chunk) override { text.append(chunk); }
  std::string text;
};

Step exits(int code, std::vector<std::string> output = {}) {
  Step s;
  s.exit.exit_code = code;
  s.output = std::move(output);
  return s;
}

bool has_env(const ContainerConfig& c, const std::string& kv) {
  return std::find(c.run.env.begin(), c.run.env.end(), kv) != c.run.env.end();
}

class JobExecutorUnitTest : public ::testing::Test {
 protected:
  JobExecutorUnitTest() : store_(dir_.file("artifacts")) {
    fake_.present.insert("busybox:1");
    EXPECT_TRUE(make_dirs(dir_.file("src")).ok());
    EXPECT_TRUE(write_file(dir_.file("src/in.txt"), "in").ok());
    EXPECT_TRUE(make_dirs(dir_.file("builds")).ok());
    spec_.job_id = 7;
    spec_.pipeline_id = 3;
    spec_.project_name = "app";
    spec_.job.name = "job";
    spec_.job.script = {"make"};
    spec_.job.image = schema::Image{"busybox:1", std::nullopt, {}, std::nullopt, std::nullopt, {}};
  }

  JobResult run(std::stop_token stop = {}) {
    JobEnvironment env;
    env.source_dir = dir_.file("src");
    env.log = &sink_;
    env.artifacts = &store_;
    env.work_dir = dir_.file("builds");
    env.containers = &fake_;
    env.network = network_;
    env.bridge = bridge_;
    JobResult r = make_container_job_executor()->run(spec_, env, stop);
    EXPECT_TRUE(fake_.live.empty()) << "a container was left behind";
    EXPECT_TRUE(fake_.pods.empty()) << "a pod network was left behind";
    EXPECT_TRUE(list_dir(dir_.file("builds")).value().empty()) << "a workspace was left behind";
    return r;
  }

  testing::TempDir dir_;
  testing::FakeContainerManager fake_;
  DirectoryArtifactStore store_;
  StringSink sink_;
  JobSpec spec_;
  NetworkMode network_ = NetworkMode::kNone;
  BridgeConfig bridge_;
};

TEST_F(JobExecutorUnitTest, BridgeModePutsTheJobInAPodOnTheBridge) {
  network_ = NetworkMode::kBridge;
  bridge_ = bridge_config_for("ci0", "10.90.0.0/24");
  fake_.steps.push_back(exits(0));
  JobResult r = run();
  ASSERT_EQ(r.status, JobStatus::kSuccess) << sink_.text;
  ASSERT_EQ(fake_.created.size(), 1u);
  EXPECT_EQ(fake_.created[0].network.mode, ContainerNetwork::Mode::kJoin);
  EXPECT_EQ(fake_.created[0].network.address, "10.89.0.2") << "the pod's address, from the fake";
  auto ev = fake_.events_snapshot();
  ASSERT_GE(ev.size(), 2u);
  EXPECT_EQ(ev.front().rfind("pod create job-7-", 0), 0u) << ev.front();
  EXPECT_EQ(ev.front().substr(ev.front().size() - 11), " bridge ci0") << ev.front();
  EXPECT_EQ(ev.back().rfind("pod destroy job-7-", 0), 0u) << ev.back();
  EXPECT_NE(sink_.text.find("Network: address 10.89.0.2 on bridge ci0 (gateway 10.89.0.1)"),
            std::string::npos)
      << sink_.text;
}

TEST_F(JobExecutorUnitTest, NoneOrHostWithoutServicesNeedsNoPod) {
  for (NetworkMode m : {NetworkMode::kNone, NetworkMode::kHost}) {
    network_ = m;
    fake_.created.clear();
    fake_.steps.push_back(exits(0));
    JobResult r = run();
    ASSERT_EQ(r.status, JobStatus::kSuccess) << sink_.text;
    ASSERT_EQ(fake_.created.size(), 1u);
    EXPECT_EQ(fake_.created[0].network.mode, m == NetworkMode::kHost
                                                 ? ContainerNetwork::Mode::kHost
                                                 : ContainerNetwork::Mode::kNone);
    for (const auto& e : fake_.events_snapshot()) EXPECT_NE(e.rfind("pod ", 0), 0u) << e;
  }
}

TEST_F(JobExecutorUnitTest, ExitZeroIsSuccess) {
  fake_.steps.push_back(exits(0, {"built\n"}));
  JobResult r = run();
  EXPECT_EQ(r.status, JobStatus::kSuccess);
  EXPECT_EQ(r.failure_reason, FailureReason::kNone);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(sink_.text.find("built\n"), std::string::npos);
  EXPECT_EQ(r.log_bytes, sink_.text.size());
  EXPECT_FALSE(r.started_at.empty());
  EXPECT_FALSE(r.finished_at.empty());
}

TEST_F(JobExecutorUnitTest, ContainerGetsWorkspaceEnvAndScript) {
  spec_.project_path = "group/app";
  spec_.commit_sha = "0123456789abcdef0123456789abcdef01234567";
  spec_.job.variables.set("MY_VAR", "x y");
  spec_.job.image->entrypoint = std::vector<std::string>{""};
  spec_.job.image->user = "nobody";
  Step s = exits(0);
  s.effect = [&](const std::string& project) {
    // The workspace is a copy of the sources.
    EXPECT_EQ(read_file(project + "/in.txt").value_or(""), "in");
  };
  fake_.steps.push_back(s);
  ASSERT_EQ(run().status, JobStatus::kSuccess) << sink_.text;
  ASSERT_EQ(fake_.created.size(), 1u);
  const ContainerConfig& c = fake_.created[0];
  EXPECT_EQ(c.image, "busybox:1");
  EXPECT_EQ(c.run.working_dir, "/builds/group/app");
  EXPECT_EQ(c.run.cmd, shell_command("/builds/group/app.tmp/step_script.sh"));
  ASSERT_TRUE(c.run.entrypoint.has_value());
  EXPECT_TRUE(c.run.entrypoint->empty());  // [""] removes the image's entrypoint
  EXPECT_EQ(c.run.user, "nobody");
  ASSERT_EQ(c.run.volumes.size(), 2u);
  EXPECT_EQ(c.run.volumes[0].destination, "/builds/group/app");
  EXPECT_FALSE(c.run.volumes[0].readonly);
  EXPECT_EQ(c.run.volumes[1].destination, "/builds/group/app.tmp");
  EXPECT_TRUE(c.run.volumes[1].readonly);
  EXPECT_TRUE(has_env(c, "MY_VAR=x y"));
  EXPECT_TRUE(has_env(c, "CI_JOB_ID=7"));
  EXPECT_TRUE(has_env(c, "CI_PIPELINE_ID=3"));
  EXPECT_TRUE(has_env(c, "CI_PROJECT_DIR=/builds/group/app"));
  EXPECT_TRUE(has_env(c, "CI_BUILDS_DIR=/builds"));
  EXPECT_TRUE(has_env(c, "CI_COMMIT_SHORT_SHA=01234567"));
  EXPECT_EQ(c.network.mode, ContainerNetwork::Mode::kNone);
}

TEST_F(JobExecutorUnitTest, NonZeroExitIsScriptFailureWithItsCode) {
  fake_.steps.push_back(exits(2));
  JobResult r = run();
  EXPECT_EQ(r.status, JobStatus::kFailed);
  EXPECT_EQ(r.failure_reason, FailureReason::kScriptFailure);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(sink_.text.find("ERROR: Job failed: exit code 2"), std::string::npos);
}

TEST_F(JobExecutorUnitTest, TimeoutIsJobExecutionTimeout) {
  spec_.job.timeout_seconds = 3600;
  Step s = exits(137);
  s.exit.timed_out = true;
  fake_.steps.push_back(s);
  JobResult r = run();
  EXPECT_EQ(r.failure_reason, FailureReason::kJobExecutionTimeout);
  EXPECT_NE(sink_.text.find("execution took longer than 1h0m0s seconds"), std::string::npos)
      << sink_.text;
}

TEST_F(JobExecutorUnitTest, CanceledRunsAfterScriptWithCanceledStatusButNoUploads) {
  spec_.job.after_script = {"echo after"};
  schema::Artifacts a;
  a.paths = {"in.txt"};
  a.when = schema::When::kAlways;
  spec_.job.artifacts = a;
  Step s = exits(143);
  s.exit.canceled = true;
  fake_.steps.push_back(s);
  fake_.steps.push_back(exits(0, {"after ran\n"}));
  std::stop_source stop;
  stop.request_stop();  // as the cancel that stopped the script left it
  JobResult r = run(stop.get_token());
  EXPECT_EQ(r.status, JobStatus::kCanceled);
  EXPECT_EQ(r.failure_reason, FailureReason::kCanceled);
  ASSERT_EQ(fake_.created.size(), 2u);  // GitLab 17.0+: after_script runs for canceled jobs
  EXPECT_TRUE(has_env(fake_.created[1], "CI_JOB_STATUS=canceled"));
  EXPECT_NE(sink_.text.find("after ran"), std::string::npos) << sink_.text;
  EXPECT_FALSE(r.artifacts_locator.has_value());
}

TEST_F(JobExecutorUnitTest, TimedOutJobRunsAfterScriptWithTimedoutStatus) {
  spec_.job.after_script = {"echo after"};
  Step s = exits(137);
  s.exit.timed_out = true;
  fake_.steps.push_back(s);
  fake_.steps.push_back(exits(0));
  JobResult r = run();
  EXPECT_EQ(r.failure_reason, FailureReason::kJobExecutionTimeout);
  ASSERT_EQ(fake_.created.size(), 2u);
  EXPECT_TRUE(has_env(fake_.created[1], "CI_JOB_STATUS=timedout"));
}

TEST_F(JobExecutorUnitTest, RuntimeErrorIsRunnerSystemFailure) {
  Step s;
  s.error = Error(ErrorCode::kIo, "mount overlay: invalid argument");
  fake_.steps.push_back(s);
  JobResult r = run();
  EXPECT_EQ(r.failure_reason, FailureReason::kRunnerSystemFailure);
  EXPECT_NE(r.message.find("mount overlay"), std::string::npos);
  EXPECT_NE(sink_.text.find("ERROR: Job failed (system failure): run step_script: mount overlay"),
            std::string::npos)
      << sink_.text;
}

TEST_F(JobExecutorUnitTest, AfterScriptSeesStatusAndCannotChangeIt) {
  spec_.job.after_script = {"cleanup"};
  fake_.steps.push_back(exits(0));
  fake_.steps.push_back(exits(5));
  JobResult r = run();
  EXPECT_EQ(r.status, JobStatus::kSuccess);
  ASSERT_EQ(fake_.created.size(), 2u);
  EXPECT_TRUE(has_env(fake_.created[1], "CI_JOB_STATUS=success"));
  EXPECT_FALSE(has_env(fake_.created[0], "CI_JOB_STATUS=success"));
  EXPECT_EQ(fake_.created[1].run.cmd, shell_command("/builds/app.tmp/after_script.sh"));
  EXPECT_NE(sink_.text.find("after_script failed, but job will continue unaffected: exit code 5"),
            std::string::npos);
}

TEST_F(JobExecutorUnitTest, PullPoliciesAreTriedInOrder) {
  spec_.job.image->name = "registry.example/app:1";
  spec_.job.image->pull_policy = {"never", "if-not-present"};
  fake_.pullable.insert("registry.example/app:1");
  fake_.steps.push_back(exits(0));
  EXPECT_EQ(run().status, JobStatus::kSuccess) << sink_.text;
  EXPECT_NE(sink_.text.find("trying the next pull policy"), std::string::npos);
}

TEST_F(JobExecutorUnitTest, UnpullableImageIsImagePullFailureWithTheRegistrysMessage) {
  spec_.job.image->name = "registry.example/none:1";
  JobResult r = run();
  EXPECT_EQ(r.failure_reason, FailureReason::kImagePullFailure);
  EXPECT_EQ(r.message, "pull image 'registry.example/none:1': manifest unknown");
  EXPECT_TRUE(fake_.created.empty());
}

TEST_F(JobExecutorUnitTest, DefaultImageIsUsedAndNoImageAtAllIsAnError) {
  spec_.job.image.reset();
  spec_.default_image = "busybox:1";
  fake_.steps.push_back(exits(0));
  EXPECT_EQ(run().status, JobStatus::kSuccess);
  spec_.default_image.clear();
  JobResult r = run();
  EXPECT_EQ(r.failure_reason, FailureReason::kRunnerSystemFailure);
  EXPECT_NE(r.message.find("names no image"), std::string::npos);
}

TEST_F(JobExecutorUnitTest, MaskingHoldsAcrossOutputChunks) {
  spec_.masked_values = {"topsecret"};
  fake_.steps.push_back(exits(1, {"value: tops", "ecret done\n"}));
  JobResult r = run();
  EXPECT_EQ(sink_.text.find("topsecret"), std::string::npos) << sink_.text;
  EXPECT_NE(sink_.text.find("value: [MASKED] done\n"), std::string::npos) << sink_.text;
}

TEST_F(JobExecutorUnitTest, ArtifactsFollowTheirWhen) {
  schema::Artifacts a;
  a.paths = {"out.txt"};
  a.when = schema::When::kOnFailure;
  spec_.job.artifacts = a;
  auto make_out = [](const std::string& project) {
    EXPECT_TRUE(write_file(project + "/out.txt", "report").ok());
  };
  Step ok = exits(0);
  ok.effect = make_out;
  fake_.steps.push_back(ok);
  EXPECT_FALSE(run().artifacts_locator.has_value());  // succeeded: on_failure uploads nothing
  Step bad = exits(1);
  bad.effect = make_out;
  fake_.steps.push_back(bad);
  JobResult r = run();
  ASSERT_TRUE(r.artifacts_locator.has_value()) << sink_.text;
  EXPECT_TRUE(path_exists(dir_.file("artifacts/" + *r.artifacts_locator)));
}

TEST_F(JobExecutorUnitTest, ArtifactPathsAndExcludesExpandTheJobsVariables) {
  // A matrix job names its own files ("out/app-$ARCH.txt"), as GitLab's runner expands them.
  spec_.job.variables.set("ARCH", "arm64");
  spec_.job.variables.set("SKIP", "debug");
  schema::Artifacts a;
  a.paths = {"out/app-$ARCH.txt", "${ARCH}-logs/"};
  a.exclude = {"${ARCH}-logs/$SKIP.log"};
  spec_.job.artifacts = a;
  Step ok = exits(0);
  ok.effect = [](const std::string& project) {
    EXPECT_TRUE(make_dirs(project + "/out").ok());
    EXPECT_TRUE(make_dirs(project + "/arm64-logs").ok());
    EXPECT_TRUE(write_file(project + "/out/app-arm64.txt", "app").ok());
    EXPECT_TRUE(write_file(project + "/out/app-amd64.txt", "other").ok());
    EXPECT_TRUE(write_file(project + "/arm64-logs/release.log", "r").ok());
    EXPECT_TRUE(write_file(project + "/arm64-logs/debug.log", "d").ok());
  };
  fake_.steps.push_back(ok);
  JobResult r = run();
  ASSERT_TRUE(r.artifacts_locator.has_value()) << sink_.text;
  ASSERT_TRUE(make_dirs(dir_.file("got")).ok());
  ASSERT_TRUE(extract_tar(dir_.file("artifacts/" + *r.artifacts_locator), dir_.file("got")).ok());
  EXPECT_TRUE(path_exists(dir_.file("got/out/app-arm64.txt")));
  EXPECT_FALSE(path_exists(dir_.file("got/out/app-amd64.txt")));
  EXPECT_TRUE(path_exists(dir_.file("got/arm64-logs/release.log")));
  EXPECT_FALSE(path_exists(dir_.file("got/arm64-logs/debug.log")));
}

TEST_F(JobExecutorUnitTest, CoverageComesFromTheLog) {
  spec_.job.coverage = "/Coverage: \\d+(?:\\.\\d+)?%/";
  fake_.steps.push_back(exits(0, {"Coverage: 12%\nCover", "age: 81.5%\n"}));
  EXPECT_EQ(run().coverage, 81.5);
  spec_.job.coverage.reset();
  fake_.steps.push_back(exits(0, {"Coverage: 12%\n"}));
  EXPECT_FALSE(run().coverage.has_value());
}

TEST_F(JobExecutorUnitTest, ServicesShareThePodWithTheJobAndGoAfterAfterScript) {
  schema::Service svc;
  svc.name = "registry.example/group/redis:7";
  svc.alias = "cache";
  svc.variables = {{"REDIS_ARGS", "--port 6379", {}, {}, true, {}}};
  spec_.job.services = {svc};
  spec_.job.after_script = {"echo after"};
  fake_.pullable.insert(svc.name);
  fake_.steps.push_back(exits(0));
  fake_.steps.push_back(exits(0));
  JobResult r = run();
  ASSERT_EQ(r.status, JobStatus::kSuccess) << sink_.text;
  ASSERT_EQ(fake_.created.size(), 3u);
  const auto& service = fake_.created[0];
  const auto& job = fake_.created[1];
  EXPECT_EQ(service.image, svc.name);
  EXPECT_TRUE(has_env(service, "REDIS_ARGS=--port 6379"));
  EXPECT_TRUE(has_env(service, "CI_JOB_ID=7")) << "services get the job's variables";
  EXPECT_EQ(job.network.mode, ContainerNetwork::Mode::kJoin);
  EXPECT_EQ(service.network.mode, ContainerNetwork::Mode::kJoin);
  EXPECT_EQ(job.network.netns_path, service.network.netns_path);
  ASSERT_EQ(job.extra_hosts.size(), 1u);
  EXPECT_EQ(job.extra_hosts[0].address, "127.0.0.1");
  EXPECT_EQ(job.extra_hosts[0].names,
            (std::vector<std::string>{"cache", "registry.example__group__redis",
                                      "registry.example-group-redis"}));
  EXPECT_EQ(fake_.created[2].extra_hosts, job.extra_hosts) << "after_script sees the services too";

  // Order: pod, service up, script, after_script, then the service goes, then the pod.
  auto ev = fake_.events_snapshot();
  std::vector<std::string> kinds;
  for (const auto& e : ev) kinds.push_back(e.substr(0, e.rfind(' ')));
  ASSERT_EQ(ev.size(), 12u) << ::testing::PrintToString(ev);
  EXPECT_EQ(ev[0].rfind("pod create job-7-", 0), 0u) << ev[0];
  EXPECT_EQ(ev[1], "create fake1 " + svc.name);
  EXPECT_EQ(ev[2], "start fake1");
  EXPECT_EQ(ev[3], "create fake2 busybox:1");
  EXPECT_EQ(ev[4], "run fake2");
  EXPECT_EQ(ev[5], "remove fake2");
  EXPECT_EQ(ev[6], "create fake3 busybox:1");
  EXPECT_EQ(ev[7], "run fake3");
  EXPECT_EQ(ev[8], "remove fake3");
  EXPECT_EQ(ev[9], "stop fake1");
  EXPECT_EQ(ev[10], "remove fake1");
  EXPECT_EQ(ev[11], "pod destroy " + ev[0].substr(std::string("pod create ").size()));
  EXPECT_NE(sink_.text.find("Starting service registry.example/group/redis:7 ..."),
            std::string::npos)
      << sink_.text;
}

TEST_F(JobExecutorUnitTest, AServiceThatFailsIsAWarningAndTheJobGoesOn) {
  schema::Service svc;
  svc.name = "db:1";
  spec_.job.services = {svc};
  fake_.present.insert("db:1");
  fake_.configs["db:1"].exposed_ports = {"5432/tcp"};
  testing::FakeContainerManager::ServiceBehavior b;
  b.output = "initdb: error: invalid locale settings\n";
  b.exits = ContainerExit{1, 0, false, false, false};
  fake_.services["db:1"] = b;
  fake_.steps.push_back(exits(0));
  JobResult r = run();
  EXPECT_EQ(r.status, JobStatus::kSuccess) << sink_.text;
  EXPECT_NE(sink_.text.find("Waiting for services to be up and running (timeout 30 seconds)"),
            std::string::npos)
      << sink_.text;
  EXPECT_NE(sink_.text.find("WARNING: Service db:1 probably didn't start properly."),
            std::string::npos)
      << sink_.text;
  EXPECT_NE(sink_.text.find("initdb: error: invalid locale settings"), std::string::npos)
      << sink_.text;
}

TEST_F(JobExecutorUnitTest, AServiceImageThatCannotBePulledIsImagePullFailure) {
  schema::Service svc;
  svc.name = "registry.example/none:1";
  spec_.job.services = {svc};
  spec_.job.after_script = {"echo after"};
  JobResult r = run();
  EXPECT_EQ(r.failure_reason, FailureReason::kImagePullFailure);
  EXPECT_EQ(r.message, "service 'registry.example/none:1': pull image 'registry.example/none:1': "
                       "manifest unknown");
  EXPECT_TRUE(fake_.created.empty()) << "neither the script nor after_script ran";
}

TEST_F(JobExecutorUnitTest, ServicesInHostModeUseTheHostNetworkAndNoPod) {
  schema::Service svc;
  svc.name = "db:1";
  svc.alias = "db";
  spec_.job.services = {svc};
  fake_.present.insert("db:1");
  fake_.steps.push_back(exits(0));
  network_ = NetworkMode::kHost;
  JobResult r = run();
  EXPECT_EQ(r.status, JobStatus::kSuccess) << sink_.text;
  ASSERT_EQ(fake_.created.size(), 2u);
  EXPECT_EQ(fake_.created[0].network.mode, ContainerNetwork::Mode::kHost);
  EXPECT_EQ(fake_.created[1].network.mode, ContainerNetwork::Mode::kHost);
  ASSERT_EQ(fake_.created[1].extra_hosts.size(), 1u);
  EXPECT_EQ(fake_.created[1].extra_hosts[0].names, (std::vector<std::string>{"db"}));
  EXPECT_TRUE(fake_.live.empty());
  for (const auto& e : fake_.events_snapshot())
    EXPECT_EQ(e.rfind("pod", 0), std::string::npos) << e;
}

}  // namespace
}  // namespace gantry::agent
