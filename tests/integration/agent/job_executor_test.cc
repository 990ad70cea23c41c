// The container JobExecutor end to end on a busybox image in a TempDir state root: scripts stop
// at the first failure, after_script sees CI_JOB_STATUS, artifacts pass between jobs, a cache
// lives across runs, a timeout kills, cancel stops, secrets are masked, the sources stay
// untouched, and nothing is left behind (containers, workspaces). Services: a job reaches a
// service by its aliases in their shared pod network, a broken service is a warning with its
// output, after_script runs for canceled and timed-out jobs, and no netns or mount remains.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "agent/artifact_store.h"
#include "agent/container_manager.h"
#include "agent/job_executor.h"
#include "common/file.h"
#include "runtime/image/import.h"
#include "tests/support/bundle.h"
#include "tests/support/busybox_image.h"
#include "tests/support/temp_dir.h"

namespace gantry::agent {
namespace {

using schema::FailureReason;
using schema::JobResult;
using schema::JobSpec;
using schema::JobStatus;
using testing::TempDir;

class StringSink : public LogSink {
 public:
  void write(std::string_view chunk) override {
    std::lock_guard lock(mu_);
    text_.append(chunk);
    if (on_write_) on_write_(text_);
  }
  std::string text() {
    std::lock_guard lock(mu_);
    return text_;
  }
  // A stop token that is requested as soon as the log shows `marker`: a cancel at a known
  // point of the job, with no sleeps and no timing.
  std::stop_token cancel_at(std::string marker) {
    std::lock_guard lock(mu_);
    on_write_ = [this, marker = std::move(marker)](const std::string& text) {
      if (text.find(marker) != std::string::npos) cancel_.request_stop();
    };
    return cancel_.get_token();
  }

 private:
  std::mutex mu_;
  std::string text_;
  std::function<void(const std::string&)> on_write_;
  std::stop_source cancel_;
};

class JobExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!testing::have_static_busybox()) GTEST_SKIP() << "needs busybox-static";
    root_ = dir_.file("state");
    runtime::image::ImportOptions o;
    o.env = {"PATH=/bin"};
    ASSERT_NO_FATAL_FAILURE(
        testing::import_busybox_image(root_, bundle_.rootfs(), "localhost/busybox:1", o));
    ASSERT_NO_FATAL_FAILURE(
        testing::open_test_container_manager(root_, std::chrono::milliseconds(200), manager_));
    ASSERT_TRUE(make_dirs(dir_.file("src/lib")).ok());
    ASSERT_TRUE(write_file(dir_.file("src/lib/input.txt"), "source input\n").ok());
    ASSERT_TRUE(make_dirs(dir_.file("builds")).ok());
    store_ = std::make_unique<DirectoryArtifactStore>(dir_.file("artifacts"));
  }

  void TearDown() override {
    if (!manager_) return;
    auto all = manager_->list();
    ASSERT_TRUE(all.ok());
    EXPECT_TRUE(all->empty()) << "a container was left behind";
    for (const auto& c : *all) EXPECT_TRUE(manager_->remove(c.id).ok());
    auto left = list_dir(dir_.file("builds"));
    ASSERT_TRUE(left.ok());
    EXPECT_TRUE(left->empty()) << "a workspace was left behind";
    // The sources are never changed by a job.
    EXPECT_EQ(read_file(dir_.file("src/lib/input.txt")).value_or(""), "source input\n");
    auto src = list_dir(dir_.file("src"));
    ASSERT_TRUE(src.ok());
    EXPECT_EQ(*src, std::vector<std::string>{"lib"});
    // No pod network namespace stays pinned, nothing stays mounted under the root.
    if (path_exists(join_path(root_, "netns"))) {
      EXPECT_TRUE(list_dir(join_path(root_, "netns")).value().empty()) << "a pod network was left";
    }
    std::ifstream in("/proc/self/mountinfo");
    std::stringstream mounts;
    mounts << in.rdbuf();
    EXPECT_EQ(mounts.str().find(root_), std::string::npos) << "a mount was left under the root";
  }

  // A busybox image that exposes `ports`, for services.
  void import_service_image(const std::string& ref, std::vector<std::string> ports) {
    runtime::image::ImportOptions o;
    o.env = {"PATH=/bin"};
    o.exposed_ports = std::move(ports);
    o.cmd = {"/bin/sh"};
    ASSERT_NO_FATAL_FAILURE(testing::import_busybox_image(root_, bundle_.rootfs(), ref, o));
  }

  JobSpec spec(std::string name, std::vector<std::string> script) {
    JobSpec s;
    s.job_id = ++next_id_;
    s.pipeline_id = 5;
    s.project_name = "app";
    s.project_path = "group/app";
    s.job.name = std::move(name);
    s.job.stage = "test";
    s.job.script = std::move(script);
    s.job.image = schema::Image{"localhost/busybox:1", std::nullopt, {}, std::nullopt,
                                std::nullopt, {}};
    s.job.variables.set("CI_JOB_NAME", s.job.name);
    return s;
  }

  JobResult run(const JobSpec& s, StringSink& sink, std::stop_token stop = {}) {
    JobEnvironment env;
    env.source_dir = dir_.file("src");
    env.log = &sink;
    env.artifacts = store_.get();
    env.cache_dir = dir_.file("cache");
    env.work_dir = dir_.file("builds");
    env.containers = manager_.get();
    env.network = NetworkMode::kNone;
    return executor_->run(s, env, stop);
  }

  // The job's shell runs under Gantry's reaper (pid 1, named `init_comm`): a cancel's SIGTERM
  // reaches it and ends the job at once (exit 143), where a shell as pid 1 would ignore it and
  // wait out the whole grace for SIGKILL (137). The manager's grace is a minute, so only a
  // forwarded SIGTERM gives 143. Orphans of the script are reaped, not left as zombies.
  void expect_shell_runs_under_the_reaper(const std::string& init_comm) {
    JobSpec s = spec("reaped", {"cat /proc/1/comm", "echo \"shell pid $$\"",
                                "sh -c 'sleep 0 &'; sleep 0.1; ps -o stat,comm",
                                "echo waiting-for-cancel", "sleep 120", "echo never"});
    StringSink sink;
    JobResult r = run(s, sink, sink.cancel_at("waiting-for-cancel\n"));
    std::string log = sink.text();
    EXPECT_EQ(r.status, JobStatus::kCanceled) << log;
    EXPECT_EQ(r.exit_code, 128 + SIGTERM) << log;
    EXPECT_NE(log.find("\n" + init_comm + "\n"), std::string::npos)
        << "pid 1 is the reaper\n" << log;
    EXPECT_EQ(log.find("shell pid 1\n"), std::string::npos) << log;
    EXPECT_EQ(log.find(" Z "), std::string::npos) << "an orphan stayed a zombie\n" << log;
    EXPECT_EQ(log.find("never\n"), std::string::npos) << log;
  }

  TempDir dir_;
  testing::TestBundle bundle_;
  std::string root_;
  std::unique_ptr<ContainerManager> manager_;
  std::unique_ptr<DirectoryArtifactStore> store_;
  std::unique_ptr<JobExecutor> executor_ = make_container_job_executor();
  int next_id_ = 100;
};

TEST_F(JobExecutorTest, ROOT_SuccessfulJobSeesItsWorkspaceAndVariables) {
  JobSpec s =
      spec("hello", {"cat lib/input.txt", "echo \"$CI_PROJECT_DIR $CI_JOB_ID $CI_PIPELINE_ID\"",
                     "pwd", "echo changed > lib/input.txt"});
  s.job.before_script = {"echo before"};
  StringSink sink;
  JobResult r = run(s, sink);
  std::string log = sink.text();
  EXPECT_EQ(r.status, JobStatus::kSuccess) << log;
  EXPECT_EQ(r.failure_reason, FailureReason::kNone);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(log.find("$ echo before\x1b[0;m\nbefore\n"), std::string::npos) << log;
  EXPECT_NE(log.find("source input\n"), std::string::npos) << log;
  EXPECT_NE(log.find("\n/builds/group/app 101 5\n"), std::string::npos) << log;
  EXPECT_NE(log.find("$ pwd\x1b[0;m\n/builds/group/app\n"), std::string::npos) << log;
  EXPECT_NE(log.find("Job succeeded"), std::string::npos);
  EXPECT_EQ(r.log_bytes, log.size());
  EXPECT_EQ(r.log_sha256.size(), 64u);
}

TEST_F(JobExecutorTest, ROOT_FailingCommandStopsScriptAndAfterScriptSeesStatus) {
  JobSpec s = spec("fails", {"echo one", "exit 3", "echo never"});
  s.job.after_script = {"echo \"after: $CI_JOB_STATUS\"", "exit 9"};
  StringSink sink;
  JobResult r = run(s, sink);
  std::string log = sink.text();
  EXPECT_EQ(r.status, JobStatus::kFailed) << log;
  EXPECT_EQ(r.failure_reason, FailureReason::kScriptFailure);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(log.find("one\n"), std::string::npos);
  EXPECT_EQ(log.find("never\n"), std::string::npos) << log;
  EXPECT_NE(log.find("after: failed\n"), std::string::npos) << log;
  // after_script's own failure does not change the job's status or exit code.
  EXPECT_NE(log.find("after_script failed, but job will continue unaffected: exit code 9"),
            std::string::npos);
  EXPECT_NE(log.find("ERROR: Job failed: exit code 3"), std::string::npos) << log;
}

TEST_F(JobExecutorTest, ROOT_ArtifactsPassBetweenTwoJobs) {
  JobSpec build = spec("build", {"mkdir -p out/sub", "echo built > out/sub/bin.txt",
                                 "echo junk > out/sub/x.o"});
  schema::Artifacts a;
  a.paths = {"out/", "missing/"};
  a.exclude = {"out/**/*.o"};
  build.job.artifacts = a;
  StringSink sink1;
  JobResult r1 = run(build, sink1);
  ASSERT_EQ(r1.status, JobStatus::kSuccess) << sink1.text();
  ASSERT_TRUE(r1.artifacts_locator.has_value());
  EXPECT_NE(sink1.text().find("missing/: no matching files"), std::string::npos) << sink1.text();

  JobSpec test = spec("test", {"cat out/sub/bin.txt", "test ! -e out/sub/x.o"});
  test.dependencies = {{"build", *r1.artifacts_locator}};
  StringSink sink2;
  JobResult r2 = run(test, sink2);
  EXPECT_EQ(r2.status, JobStatus::kSuccess) << sink2.text();
  EXPECT_NE(sink2.text().find("built\n"), std::string::npos) << sink2.text();

  JobSpec gone = spec("test2", {"true"});
  gone.dependencies = {{"build", "no-such.tar"}};
  StringSink sink3;
  JobResult r3 = run(gone, sink3);
  EXPECT_EQ(r3.failure_reason, FailureReason::kMissingDependencyFailure) << sink3.text();
}

TEST_F(JobExecutorTest, ROOT_CacheIsReusedByASecondRun) {
  JobSpec s = spec("cached", {"if [ -f .cache/count ]; then echo \"restored $(cat .cache/count)\"; "
                              "else mkdir -p .cache; echo 1 > .cache/count; echo fresh; fi"});
  schema::Cache c;
  c.key = "$CI_JOB_NAME";
  c.paths = {".cache/"};
  s.job.cache = {c};
  StringSink first;
  ASSERT_EQ(run(s, first).status, JobStatus::kSuccess) << first.text();
  EXPECT_NE(first.text().find("fresh\n"), std::string::npos) << first.text();
  EXPECT_NE(first.text().find("Created cache"), std::string::npos) << first.text();
  s.job_id = ++next_id_;
  StringSink second;
  ASSERT_EQ(run(s, second).status, JobStatus::kSuccess) << second.text();
  EXPECT_NE(second.text().find("restored 1\n"), std::string::npos) << second.text();
}

TEST_F(JobExecutorTest, ROOT_TimeoutKillsTheJob) {
  JobSpec s = spec("slow", {"echo started", "sleep 120", "echo never"});
  s.job.timeout_seconds = 1;
  StringSink sink;
  JobResult r = run(s, sink);
  std::string log = sink.text();
  EXPECT_EQ(r.status, JobStatus::kFailed) << log;
  EXPECT_EQ(r.failure_reason, FailureReason::kJobExecutionTimeout);
  EXPECT_EQ(log.find("never\n"), std::string::npos);
  EXPECT_NE(log.find("ERROR: Job failed: execution took longer than 1s seconds"), std::string::npos)
      << log;
}

TEST_F(JobExecutorTest, ROOT_StopTokenCancelsARunningJob) {
  JobSpec s = spec("cancel", {"echo waiting-for-cancel", "sleep 120", "echo never"});
  StringSink sink;
  JobResult r = run(s, sink, sink.cancel_at("waiting-for-cancel\n"));
  EXPECT_EQ(r.status, JobStatus::kCanceled) << sink.text();
  EXPECT_EQ(r.failure_reason, FailureReason::kCanceled);
  EXPECT_EQ(sink.text().find("never\n"), std::string::npos);
}

// Gantry's runtime runs the reaper in the container's own init.
TEST_F(JobExecutorTest, ROOT_JobShellRunsUnderTheReaperWhichForwardsTheCancelsSigterm) {
  ASSERT_NO_FATAL_FAILURE(
      testing::open_test_container_manager(root_, std::chrono::seconds(60), manager_));
  expect_shell_runs_under_the_reaper("gantry");
}

// Under runc, which knows nothing of Gantry's init annotation, the static gantry executable is
// bind-mounted in as the init (gantry-init), as `docker run --init` puts tini in.
TEST_F(JobExecutorTest, ROOT_UnderRuncTheJobShellRunsUnderGantryInit) {
  if (::access("/usr/sbin/runc", X_OK) != 0) GTEST_SKIP() << "needs runc";
  ASSERT_NO_FATAL_FAILURE(testing::open_test_container_manager(root_, std::chrono::seconds(60),
                                                               manager_, "/usr/sbin/runc"));
  expect_shell_runs_under_the_reaper("gantry-init");
}

TEST_F(JobExecutorTest, ROOT_SecretsAreMaskedInTheLogAndResult) {
  JobSpec s = spec("masked", {"echo \"token is $TOKEN\"", "printf 'sp'; printf 'lit-s3cr3t\\n'",
                              "echo $TOKEN >&2", "exit 4"});
  s.job.variables.set("TOKEN", "hunter2-secret");
  s.masked_values = {"hunter2-secret", "split-s3cr3t"};
  StringSink sink;
  JobResult r = run(s, sink);
  std::string log = sink.text();
  EXPECT_EQ(log.find("hunter2-secret"), std::string::npos) << log;
  EXPECT_EQ(log.find("split-s3cr3t"), std::string::npos) << log;
  EXPECT_NE(log.find("token is [MASKED]\n"), std::string::npos) << log;
  EXPECT_NE(log.find("lit-s3cr3t\\n'\x1b[0;m\n[MASKED]\n"), std::string::npos) << log;
  EXPECT_NE(log.find("$ echo $TOKEN >&2\x1b[0;m\n[MASKED]\n"), std::string::npos) << log;
  EXPECT_EQ(r.exit_code, 4);
}

TEST_F(JobExecutorTest, ROOT_MissingImageIsAnImagePullFailure) {
  JobSpec s = spec("noimage", {"true"});
  s.job.image->name = "localhost/absent:1";
  s.job.image->pull_policy = {"never"};
  StringSink sink;
  JobResult r = run(s, sink);
  EXPECT_EQ(r.status, JobStatus::kFailed);
  EXPECT_EQ(r.failure_reason, FailureReason::kImagePullFailure) << sink.text();
  EXPECT_NE(r.message.find("absent"), std::string::npos) << r.message;
  EXPECT_NE(sink.text().find("ERROR: Job failed (system failure):"), std::string::npos);
}

TEST_F(JobExecutorTest, ROOT_NETNS_JobReachesAServiceByEveryAlias) {
  import_service_image("localhost/web:1", {"8080/tcp"});
  JobSpec s = spec("with-service",
                   {"cat /etc/hosts", "wget -q -O - http://cache:8080/",
                    "wget -q -O - http://web:8080/", "wget -q -O - http://localhost-web:8080/",
                    "echo \"db name seen by the job: $POSTGRES_DB\""});
  schema::Service svc;
  svc.name = "localhost/web:1";
  svc.alias = "cache, web";
  // httpd forks into the background unless -f; the page shows the variables it got.
  svc.command = std::vector<std::string>{
      "/bin/sh", "-c",
      "mkdir -p /tmp/www && echo \"hello from the service $CI_JOB_NAME $GREETING\" > "
      "/tmp/www/index.html && echo service-starting && exec httpd -f -v -p 8080 -h /tmp/www"};
  svc.variables = {{"GREETING", "hi", {}, {}, true, {}}};
  s.job.services = {svc};
  s.job.variables.set("POSTGRES_DB", "app");
  StringSink sink;
  JobResult r = run(s, sink);
  std::string log = sink.text();
  EXPECT_EQ(r.status, JobStatus::kSuccess) << log;
  EXPECT_NE(log.find("127.0.0.1\tcache web localhost__web localhost-web"), std::string::npos)
      << log;
  size_t first = log.find("hello from the service with-service hi\n");
  ASSERT_NE(first, std::string::npos) << log;
  size_t second = log.find("hello from the service with-service hi\n", first + 1);
  ASSERT_NE(second, std::string::npos) << log;
  EXPECT_NE(log.find("hello from the service with-service hi\n", second + 1), std::string::npos)
      << log;
  EXPECT_NE(log.find("Waiting for services to be up and running (timeout 30 seconds)"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("probably didn't start properly"), std::string::npos) << log;
  EXPECT_EQ(log.find("service-starting"), std::string::npos) << "service output stays out";
}

TEST_F(JobExecutorTest, ROOT_NETNS_ServiceThatExitsIsAWarningWithItsOutputAndTheJobGoesOn) {
  import_service_image("localhost/broken:1", {"5432/tcp"});
  JobSpec s = spec("broken-service", {"echo script ran"});
  schema::Service svc;
  svc.name = "localhost/broken:1";
  svc.command = std::vector<std::string>{"/bin/sh", "-c",
                                         "echo 'FATAL: no config for' $CI_JOB_NAME; exit 3"};
  s.job.services = {svc};
  StringSink sink;
  JobResult r = run(s, sink);
  std::string log = sink.text();
  EXPECT_EQ(r.status, JobStatus::kSuccess) << log;
  EXPECT_NE(log.find("WARNING: Service localhost/broken:1 probably didn't start properly."),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("service 'localhost/broken:1' exited with code 3"), std::string::npos) << log;
  EXPECT_NE(log.find("FATAL: no config for broken-service"), std::string::npos) << log;
  EXPECT_NE(log.find("script ran\n"), std::string::npos) << log;
}

TEST_F(JobExecutorTest, ROOT_NETNS_ServicePortThatNeverOpensIsBoundedByTheTimeout) {
  import_service_image("localhost/mute:1", {"9999/tcp"});
  JobSpec s = spec("mute-service", {"echo script ran"});
  schema::Service svc;
  svc.name = "localhost/mute:1";
  svc.command = std::vector<std::string>{"/bin/sh", "-c", "echo listening soon; exec sleep 600"};
  s.job.services = {svc};
  s.services_wait_timeout_seconds = 1;
  StringSink sink;
  JobResult r = run(s, sink);
  std::string log = sink.text();
  EXPECT_EQ(r.status, JobStatus::kSuccess) << log;
  EXPECT_NE(log.find("port 9999/tcp did not accept a connection within 1s"), std::string::npos)
      << log;
  EXPECT_NE(log.find("listening soon"), std::string::npos) << log;
}

TEST_F(JobExecutorTest, ROOT_NETNS_CancelWhileWaitingForServicesRunsAfterScriptAndCleansUp) {
  import_service_image("localhost/mute:1", {"9999/tcp"});
  JobSpec s = spec("cancel-in-wait", {"echo never"});
  s.job.after_script = {"echo \"after_script status=$CI_JOB_STATUS\""};
  schema::Service svc;
  svc.name = "localhost/mute:1";
  svc.command = std::vector<std::string>{"sleep", "600"};
  s.job.services = {svc};
  s.services_wait_timeout_seconds = 3600;
  StringSink sink;
  JobResult r = run(s, sink, sink.cancel_at("Waiting for services"));
  std::string log = sink.text();
  EXPECT_EQ(r.status, JobStatus::kCanceled) << log;
  EXPECT_EQ(log.find("never\n"), std::string::npos) << log;
  EXPECT_NE(log.find("after_script status=canceled\n"), std::string::npos) << log;
}

TEST_F(JobExecutorTest, ROOT_AfterScriptRunsWhenCanceledAndWhenTimedOut) {
  JobSpec c = spec("cancel", {"echo waiting-for-cancel", "sleep 120"});
  c.job.after_script = {"echo \"after_script status=$CI_JOB_STATUS\""};
  StringSink canceled;
  JobResult r = run(c, canceled, canceled.cancel_at("waiting-for-cancel\n"));
  EXPECT_EQ(r.status, JobStatus::kCanceled) << canceled.text();
  EXPECT_NE(canceled.text().find("after_script status=canceled\n"), std::string::npos)
      << canceled.text();

  JobSpec t = spec("timeout", {"sleep 120"});
  t.job.timeout_seconds = 1;
  t.job.after_script = {"echo \"after_script status=$CI_JOB_STATUS\""};
  StringSink timed_out;
  JobResult tr = run(t, timed_out);
  EXPECT_EQ(tr.failure_reason, FailureReason::kJobExecutionTimeout) << timed_out.text();
  EXPECT_NE(timed_out.text().find("after_script status=timedout\n"), std::string::npos)
      << timed_out.text();
}

}  // namespace
}  // namespace gantry::agent
