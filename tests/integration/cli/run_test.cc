// `gantry run` end to end, as root, through the binary: the examples run with their expected
// output, exit codes and artifacts; a cache is reused by a second run; --secret values are
// masked on the terminal and in the logs; a job's timeout stops it; SIGINT cancels a running
// pipeline with exit 130; a job reaches its service by alias; and after every run nothing is
// left (mounts, bundles, runtime state, pod networks).
// The busybox image is imported once per suite into the suite's own state root. The Debian
// examples (c-project, services) need images built by scripts/debian-image.sh and are skipped
// with the command to run unless GANTRY_TEST_DEBIAN_IMAGES=1.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/file.h"
#include "common/subprocess.h"
#include "tests/support/bundle.h"
#include "tests/support/temp_dir.h"

namespace gantry {
namespace {

using testing::TempDir;

struct RunOutput {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class GantryRunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0 || !testing::have_static_busybox()) return;
    state_ = new TempDir("gantry-run-state");
    testing::TestBundle bundle;
    auto r = run_subprocess({GANTRY_BIN, "--root", state_->path(), "image", "import",
                             bundle.rootfs(), "gantry.local/busybox:latest"});
    import_ok_ = r.ok() && r->exit_code == 0;
    if (!import_ok_) import_error_ = r.ok() ? r->err : r.error().message();
  }
  static void TearDownTestSuite() {
    delete state_;
    state_ = nullptr;
  }

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: real containers";
    if (!testing::have_static_busybox()) GTEST_SKIP() << "needs busybox-static";
    ASSERT_TRUE(import_ok_) << "importing the busybox image failed: " << import_error_;
  }

  void TearDown() override {
    if (state_ != nullptr && !IsSkipped()) expect_nothing_left();
  }

  // Copies examples/<name> into this test's project directory.
  void use_example(const std::string& name) {
    auto r = run_subprocess({"cp", "-a", std::string(GANTRY_SOURCE_DIR) + "/examples/" + name +
                                             "/.", project_.path()});
    ASSERT_TRUE(r.ok() && r->exit_code == 0);
  }
  void write_pipeline(const std::string& text) {
    ASSERT_TRUE(write_file(project_.file(".gantry-ci.yml"), text).ok());
  }

  RunOutput run(const std::vector<std::string>& args) {
    std::vector<std::string> argv{GANTRY_BIN, "--root", state_->path(), "run", "--network",
                                  "none"};
    argv.insert(argv.end(), args.begin(), args.end());
    SubprocessOptions opts;
    opts.cwd = project_.path();
    opts.timeout = std::chrono::minutes(5);  // a hung run fails the test instead of the suite
    auto r = run_subprocess(argv, opts);
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return {};
    EXPECT_FALSE(r->timed_out);
    return {r->exit_code, r->out, r->err};
  }

  // The run directory named by the last line of the output.
  static std::string run_dir(const std::string& out) {
    std::smatch m;
    static const std::regex re("logs and artifacts in (\\S+)\n");
    return std::regex_search(out, m, re) ? m[1].str() : "";
  }

  // The summary row of `job`, columns squeezed to one space.
  static std::string summary_row(const std::string& out, const std::string& job) {
    std::istringstream in(out.substr(out.rfind("\njob ")));
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(job + " ", 0) != 0) continue;
      return std::regex_replace(line, std::regex(" {2,}"), " ");
    }
    return "";
  }

  // Runs `gantry run --network none` in the project with its stdout on a pipe and returns what
  // it printed and its wait status. After each read, `on_output(pid, output so far)` may signal
  // the run (a test interrupts at the line that proves a container runs).
  std::pair<std::string, int> run_watching(
      const std::function<void(pid_t, const std::string&)>& on_output) {
    int out_pipe[2];
    EXPECT_EQ(::pipe2(out_pipe, O_CLOEXEC), 0);
    std::string root = state_->path();
    std::string cwd = project_.path();
    pid_t pid = ::fork();
    EXPECT_GE(pid, 0);
    if (pid == 0) {
      ::dup2(out_pipe[1], STDOUT_FILENO);
      if (::chdir(cwd.c_str()) != 0) ::_exit(127);
      ::execl(GANTRY_BIN, GANTRY_BIN, "--root", root.c_str(), "run", "--network", "none",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out_pipe[1]);
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      on_output(pid, out);
    }
    ::close(out_pipe[0]);
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    return {out, status};
  }

  // No container, bundle, mount or runtime state is left under the state root.
  void expect_nothing_left() {
    for (const char* sub : {"bundles", "containers", "netns"}) {
      std::string dir = state_->file(sub);
      if (!path_exists(dir)) continue;
      auto entries = list_dir(dir);
      ASSERT_TRUE(entries.ok());
      // The manager's lock file and the seccomp cache stay; containers, and bundles still being
      // removed (".removing-<id>"), not.
      std::erase_if(*entries,
                    [](const std::string& e) { return e == ".lock" || e == ".seccomp-cache"; });
      EXPECT_TRUE(entries->empty()) << dir << " still holds " << entries->front();
    }
    std::ifstream mounts("/proc/self/mountinfo");
    for (std::string line; std::getline(mounts, line);) {
      EXPECT_EQ(line.find(state_->path()), std::string::npos) << "left mounted: " << line;
      EXPECT_EQ(line.find(project_.path()), std::string::npos) << "left mounted: " << line;
    }
  }

  static TempDir* state_;
  static bool import_ok_;
  static std::string import_error_;
  TempDir project_{"gantry-run-project"};
};

TempDir* GantryRunTest::state_ = nullptr;
bool GantryRunTest::import_ok_ = false;
std::string GantryRunTest::import_error_;

TEST_F(GantryRunTest, ROOT_HelloExampleRunsBothJobsAndPassesTheArtifact) {
  use_example("hello");
  auto r = run({});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("build | hello from Gantry, job build on main"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test  | built"), std::string::npos) << r.out;
  EXPECT_EQ(summary_row(r.out, "build").rfind("build build success ", 0), 0u) << r.out;
  EXPECT_EQ(summary_row(r.out, "test").rfind("test test success ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("pipeline success;"), std::string::npos) << r.out;
  std::string dir = run_dir(r.out);
  ASSERT_FALSE(dir.empty()) << r.out;
  auto log = read_file(dir + "/build.log");
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("hello from Gantry"), std::string::npos);
  EXPECT_FALSE(path_exists(project_.file("out"))) << "a job wrote into the source tree";
}

// Disabled: the matrix jobs of examples/pipeline-features upload no artifacts ("No files to
// upload"), so `test` fails. A known bug, open in issue 4; enable with the fix.
TEST_F(GantryRunTest, ROOT_FeaturesExampleRunsTheDagMatrixAndAllowedFailureAndReusesTheCache) {
  use_example("pipeline-features");
  auto first = run({});
  EXPECT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("cache miss: fetching the library"), std::string::npos) << first.out;
  for (const char* job : {"build: [amd64, debug]", "build: [amd64, release]",
                          "build: [arm64, debug]", "build: [arm64, release]"}) {
    EXPECT_NE(summary_row(first.out, job).find(" success "), std::string::npos)
        << job << "\n" << first.out;
  }
  EXPECT_NE(summary_row(first.out, "lint").find("failed (allowed)"), std::string::npos)
      << first.out;
  EXPECT_NE(summary_row(first.out, "lint").find("exit code 3"), std::string::npos) << first.out;
  EXPECT_NE(summary_row(first.out, "test").find(" success "), std::string::npos) << first.out;
  EXPECT_NE(summary_row(first.out, "report").find(" success "), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("pipeline success with warnings"), std::string::npos) << first.out;

  auto second = run({});
  EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_NE(second.out.find("cache hit: lib 1.0"), std::string::npos) << second.out;
  EXPECT_NE(run_dir(first.out), run_dir(second.out));
}

TEST_F(GantryRunTest, ROOT_AFailedJobFailsThePipelineSkipsLaterJobsAndRunsOnFailureJobs) {
  write_pipeline(
      "image: gantry.local/busybox:latest\n"
      "stages: [build, test, notify]\n"
      "build:\n  stage: build\n  script:\n    - echo compiling\n    - exit 4\n"
      "test:\n  stage: test\n  script: [echo never]\n"
      "notify:\n  stage: notify\n  when: on_failure\n  script: [echo build broke]\n");
  auto r = run({});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(summary_row(r.out, "build").find("failed"), std::string::npos) << r.out;
  EXPECT_NE(summary_row(r.out, "build").find("script_failure, exit code 4"), std::string::npos)
      << r.out;
  EXPECT_NE(summary_row(r.out, "test").find("skipped"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("never"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("notify | build broke"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pipeline failed;"), std::string::npos) << r.out;
}

TEST_F(GantryRunTest, ROOT_SecretsAreMaskedOnTheTerminalAndInTheLog) {
  write_pipeline(
      "image: gantry.local/busybox:latest\n"
      "leak:\n  script:\n    - echo \"token is $API_TOKEN\"\n"
      "    - test \"$API_TOKEN\" = s3cr3t-Value-42\n");
  auto r = run({"--secret", "API_TOKEN=s3cr3t-Value-42"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("token is [MASKED]"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("s3cr3t-Value-42"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("s3cr3t-Value-42"), std::string::npos) << r.err;
  auto log = read_file(run_dir(r.out) + "/leak.log");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->find("s3cr3t-Value-42"), std::string::npos) << *log;
  EXPECT_NE(log->find("[MASKED]"), std::string::npos) << *log;
}

TEST_F(GantryRunTest, ROOT_TimeoutStopsTheJobAndRetryRunsItAgain) {
  write_pipeline(
      "image: gantry.local/busybox:latest\n"
      "slow:\n  timeout: 2s\n  retry:\n    max: 1\n    when: job_execution_timeout\n"
      "  script:\n    - echo sleeping\n    - sleep 600\n");
  auto r = run({});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  std::string row = summary_row(r.out, "slow");
  EXPECT_NE(row.find("failed"), std::string::npos) << r.out;
  EXPECT_NE(row.find("job_execution_timeout"), std::string::npos) << r.out;
  EXPECT_NE(row.find("2 attempts"), std::string::npos) << r.out;
  EXPECT_TRUE(path_exists(run_dir(r.out) + "/slow-attempt-2.log")) << r.out;
}

TEST_F(GantryRunTest, ROOT_ManualJobsWaitUnlessNamedWithJob) {
  write_pipeline(
      "image: gantry.local/busybox:latest\n"
      "build:\n  script: [echo built]\n"
      "deploy:\n  stage: deploy\n  when: manual\n  script: [echo deployed]\n");
  auto all = run({});
  EXPECT_EQ(all.exit_code, 0) << all.out << all.err;
  EXPECT_EQ(all.out.find("deployed"), std::string::npos) << all.out;
  EXPECT_NE(summary_row(all.out, "deploy").find("manual"), std::string::npos) << all.out;
  auto one = run({"--job", "deploy"});
  EXPECT_EQ(one.exit_code, 0) << one.out << one.err;
  EXPECT_NE(one.out.find("deploy | deployed"), std::string::npos) << one.out;
  EXPECT_EQ(one.out.find("built"), std::string::npos) << one.out;
}

// `when: delayed`: the job is scheduled when its turn comes and starts after start_in while its
// stage goes on; --no-delay starts it at once (a week's wait would hit the run's timeout).
TEST_F(GantryRunTest, ROOT_DelayedJobWaitsItsStartInUnlessNoDelay) {
  write_pipeline(
      "image: gantry.local/busybox:latest\n"
      "build:\n  stage: build\n  script: [echo built]\n"
      "later:\n  stage: test\n  when: delayed\n  start_in: 1 second\n"
      "  script: [echo later-ran]\n"
      "sibling:\n  stage: test\n  script: [echo sibling-ran]\n");
  auto r = run({});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  size_t scheduled = r.out.find("later   | scheduled: when: delayed, starts in 1 second");
  size_t sibling = r.out.find("sibling | started");
  size_t later = r.out.find("later   | started");
  ASSERT_NE(scheduled, std::string::npos) << r.out;
  ASSERT_NE(sibling, std::string::npos) << r.out;
  ASSERT_NE(later, std::string::npos) << r.out;
  EXPECT_LT(scheduled, later) << r.out;
  EXPECT_LT(sibling, later) << r.out;  // the stage went on meanwhile
  EXPECT_NE(r.out.find("later   | later-ran"), std::string::npos) << r.out;
  EXPECT_NE(summary_row(r.out, "later").find("success"), std::string::npos) << r.out;

  write_pipeline(
      "image: gantry.local/busybox:latest\n"
      "later:\n  when: delayed\n  start_in: 1 week\n  script: [echo later-ran]\n");
  auto now = run({"--no-delay"});
  EXPECT_EQ(now.exit_code, 0) << now.out << now.err;
  EXPECT_NE(now.out.find("later | scheduled: when: delayed (start_in 1 week), started at once "
                         "(--no-delay)"),
            std::string::npos)
      << now.out;
  EXPECT_NE(now.out.find("later | later-ran"), std::string::npos) << now.out;
}

// SIGINT while a job runs: the job's container is stopped, later jobs never start, exit 130.
TEST_F(GantryRunTest, ROOT_InterruptCancelsTheRunningJobAndExits130) {
  write_pipeline(
      "image: gantry.local/busybox:latest\n"
      "stages: [one, two]\n"
      "long:\n  stage: one\n  script:\n    - echo started-long-job\n    - sleep 600\n"
      "after:\n  stage: two\n  script: [echo should-not-run]\n");
  bool interrupted = false;
  auto [out, status] = run_watching([&](pid_t pid, const std::string& so_far) {
    // The job's own line proves its container runs the script.
    if (!interrupted && so_far.find("long  | started-long-job\n") != std::string::npos) {
      EXPECT_EQ(::kill(pid, SIGINT), 0);
      interrupted = true;
    }
  });
  ASSERT_TRUE(interrupted) << out;
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 130) << out;
  EXPECT_EQ(out.find("should-not-run"), std::string::npos) << out;
  EXPECT_NE(summary_row(out, "long").find("canceled"), std::string::npos) << out;
  EXPECT_NE(summary_row(out, "after").find("canceled (not started)"), std::string::npos) << out;
}

// A canceled job's after_script runs (bounded by 5 minutes); a second SIGINT stops it at once,
// cleans up and exits 130. Without the second signal this run would take the 5 minutes and
// never print the "stopped" line.
TEST_F(GantryRunTest, ROOT_SecondInterruptStopsTheCanceledJobsAfterScript) {
  write_pipeline(
      "image: gantry.local/busybox:latest\n"
      "long:\n"
      "  script:\n    - echo started-long-job\n    - sleep 600\n"
      "  after_script:\n    - echo after-script-started $CI_JOB_STATUS\n    - sleep 600\n"
      "    - echo after-script-finished\n");
  int signals = 0;
  auto [out, status] = run_watching([&](pid_t pid, const std::string& so_far) {
    if (signals == 0 && so_far.find("long | started-long-job\n") != std::string::npos) {
      EXPECT_EQ(::kill(pid, SIGINT), 0);
      signals = 1;
    }
    // The after_script's own line proves its container runs.
    if (signals == 1 &&
        so_far.find("long | after-script-started canceled\n") != std::string::npos) {
      EXPECT_EQ(::kill(pid, SIGINT), 0);
      signals = 2;
    }
  });
  ASSERT_EQ(signals, 2) << out;
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 130) << out;
  EXPECT_NE(out.find("long | canceling: running after_script; press Ctrl-C again to stop it"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("interrupt again: stopping after_script"), std::string::npos) << out;
  EXPECT_NE(out.find("after_script stopped: the canceled job was stopped again"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("after-script-finished"), std::string::npos) << out;
  EXPECT_NE(summary_row(out, "long").find("canceled"), std::string::npos) << out;
  // TearDown: no container, bundle, mount or runtime state left; the suite's host-state check
  // covers cgroups and processes.
}

// A service from an image that EXPOSEs its port: the run waits for the port, then the job
// reaches the service by its explicit and its default alias; after_script runs; the service's
// container and the pod network are gone afterwards (expect_nothing_left).
TEST_F(GantryRunTest, ROOT_NETNS_AJobReachesItsServiceByAlias) {
  testing::TestBundle bundle;
  auto imported = run_subprocess({GANTRY_BIN, "--root", state_->path(), "image", "import",
                                  bundle.rootfs(), "gantry.local/web:1", "--expose", "8080"});
  ASSERT_TRUE(imported.ok() && imported->exit_code == 0)
      << (imported.ok() ? imported->err : imported.error().message());
  write_pipeline(
      "image: gantry.local/busybox:latest\n"
      "test:\n"
      "  services:\n"
      "    - name: gantry.local/web:1\n"
      "      alias: web\n"
      "      command: [/bin/sh, -c, 'mkdir -p /tmp/www && echo \"hello-from-$PAGE\" >"
      " /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www']\n"
      "      variables:\n"
      "        PAGE: web\n"
      "  script:\n"
      "    - wget -q -O - http://web:8080/\n"
      "    - wget -q -O - http://gantry.local__web:8080/ | sed s/^/again-/\n"
      "  after_script:\n"
      "    - echo \"after $CI_JOB_STATUS\"\n");
  auto r = run({});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("test | hello-from-web\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test | again-hello-from-web\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test | after success\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("probably didn't start properly"), std::string::npos) << r.out;
}

// A service that dies after its health check passed: the job's log gets a warning naming it,
// its exit code and its last lines, and the job goes on (GitLab's behaviour). The job makes the
// service end (a CGI script kills its httpd) and waits until its port is closed.
TEST_F(GantryRunTest, ROOT_NETNS_AServiceThatDiesDuringTheJobIsAWarning) {
  testing::TestBundle bundle;
  auto imported = run_subprocess({GANTRY_BIN, "--root", state_->path(), "image", "import",
                                  bundle.rootfs(), "gantry.local/web:1", "--expose", "8080"});
  ASSERT_TRUE(imported.ok() && imported->exit_code == 0)
      << (imported.ok() ? imported->err : imported.error().message());
  write_pipeline(
      "image: gantry.local/busybox:latest\n"
      "test:\n"
      "  services:\n"
      "    - name: gantry.local/web:1\n"
      "      alias: web\n"
      "      command:\n"
      "        - /bin/sh\n"
      "        - -c\n"
      "        - |\n"
      "          mkdir -p /www/cgi-bin\n"
      "          printf '#!/bin/sh\\necho\\necho bye\\nkillall httpd\\n' > /www/cgi-bin/die\n"
      "          chmod +x /www/cgi-bin/die\n"
      "          echo up > /www/index.html\n"
      "          echo service-listening\n"
      "          httpd -f -p 8080 -h /www\n"
      "          echo service-going-away\n"
      "          exit 3\n"
      "  script:\n"
      "    - wget -q -O - http://web:8080/index.html\n"
      "    - wget -q -O /dev/null http://web:8080/cgi-bin/die || true\n"
      "    - while wget -q -O /dev/null http://web:8080/index.html; do sleep 0.1; done\n"
      "    - echo job-goes-on\n");
  auto r = run({});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("test | up\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test | WARNING: Service gantry.local/web:1 (alias web) exited with code 3 "
                       "while the job was running."),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("test | service-going-away\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test | job-goes-on\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("probably didn't start properly"), std::string::npos) << r.out;
}

// The Debian examples need their images; building them takes minutes, so they run on demand.
class DebianExampleTest : public GantryRunTest {
 protected:
  void SetUp() override {
    GantryRunTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (std::getenv("GANTRY_TEST_DEBIAN_IMAGES") == nullptr) {
      GTEST_SKIP() << "needs Debian images: set GANTRY_TEST_DEBIAN_IMAGES=1 (builds them with "
                      "scripts/debian-image.sh from the apt mirror, cached after the first time)";
    }
  }
  void build_image(const std::string& name, const std::string& packages) {
    auto r = run_subprocess({std::string(GANTRY_SOURCE_DIR) + "/scripts/debian-image.sh", name,
                             "--include", packages, "--root", state_->path(), "--gantry",
                             GANTRY_BIN});
    ASSERT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->err : r.error().message());
  }
};

TEST_F(DebianExampleTest, ROOT_CProjectBuildsAndPassesItsTests) {
  build_image("gantry.local/debian-gcc:bookworm", "gcc,make,libc6-dev");
  use_example("c-project");
  auto r = run({});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("test  | ok   6 * 7"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test  | 0 failure(s)"), std::string::npos) << r.out;
}

TEST_F(DebianExampleTest, ROOT_ServicesExampleTalksToRedisByAlias) {
  build_image("gantry.local/redis:bookworm", "redis-server,redis-tools");
  use_example("services");
  auto r = run({});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("counter | PONG"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace gantry
