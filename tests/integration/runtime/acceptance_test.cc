// Acceptance tests for `gantry runtime`, through the binary as a user or an OCI caller drives it:
// each test makes a busybox bundle, edits its config.json the way the issue describes, runs
// `gantry runtime run` and checks what the process inside saw, the exit code and the usage
// report. The default config comes from `gantry runtime spec` (Docker's capabilities and the
// built-in seccomp profile), so these also check the secure defaults.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/file.h"
#include "common/json.h"
#include "common/strings.h"
#include "common/subprocess.h"
#include "tests/support/bundle.h"
#include "tests/support/temp_dir.h"

namespace gantry {
namespace {

using testing::TempDir;
using testing::TestBundle;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  Json stats;
};

class RuntimeAcceptanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: real containers";
    if (!testing::have_static_busybox()) GTEST_SKIP() << "needs busybox-static";
  }

  // A bundle whose config.json is `gantry runtime spec`'s default, running `args`.
  std::unique_ptr<TestBundle> bundle(const std::vector<std::string>& args) {
    auto b = std::make_unique<TestBundle>(args);
    EXPECT_EQ(::unlink(b->config_path().c_str()), 0);
    auto spec = run_subprocess({GANTRY_BIN, "runtime", "spec", "--bundle", b->dir()});
    EXPECT_TRUE(spec.ok() && spec->exit_code == 0) << (spec.ok() ? spec->err : "");
    auto cfg = read_json_file(b->config_path());
    EXPECT_TRUE(cfg.ok());
    b->config() = *cfg;
    b->config()["process"]["args"] = args;
    b->config()["process"]["terminal"] = false;
    b->save();
    return b;
  }

  RunResult run(TestBundle& b, std::vector<std::string> extra = {}) {
    b.save();
    std::string id = "acc-" + std::to_string(::getpid()) + "-" + std::to_string(seq_++);
    std::vector<std::string> argv = {GANTRY_BIN,    "runtime",      "--root",
                                     state_.path(), "run",          "--bundle",
                                     b.dir(),       "--stats-file", state_.file(id + ".json")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(id);
    auto r = run_subprocess(argv, {.timeout = std::chrono::seconds(120)});
    RunResult out;
    if (!r.ok()) {
      ADD_FAILURE() << r.error().message();
      return out;
    }
    out.exit_code = r->exit_code;
    out.out = r->out;
    out.err = r->err;
    if (auto s = read_json_file(state_.file(id + ".json")); s.ok()) out.stats = *s;
    // The container is gone after run: no state left for it.
    EXPECT_FALSE(path_exists(state_.file(id))) << "state of '" << id << "' left behind";
    return out;
  }

  // Containers a test leaves running on purpose (create, run --detach): deleted here, so a
  // failed assertion in the middle of a test leaves no process or cgroup behind.
  void TearDown() override {
    for (const auto& id : detached_) {
      (void)run_subprocess(
          {GANTRY_BIN, "runtime", "--root", state_.path(), "delete", "--force", id},
          {.timeout = std::chrono::seconds(60)});
    }
  }

  TempDir state_{"gantry-acc-state"};
  std::vector<std::string> detached_;
  int seq_ = 0;
};

TEST_F(RuntimeAcceptanceTest, ROOT_ExitCodesPropagate) {
  auto b = bundle({"/payload", "exit", "0"});
  EXPECT_EQ(run(*b).exit_code, 0);
  b->config()["process"]["args"] = {"/payload", "exit", "1"};
  EXPECT_EQ(run(*b).exit_code, 1);
  b->config()["process"]["args"] = {"/payload", "exit", "42"};
  EXPECT_EQ(run(*b).exit_code, 42);
  // A child killed by SIGKILL: the shell reports 128+9 and the runtime passes it through. (pid 1
  // itself cannot be killed by its own signals; a kill from outside is the timeout test's.)
  b->config()["process"]["args"] = {"/bin/sh", "-c", "/payload kill-self 9; exit $?"};
  EXPECT_EQ(run(*b).exit_code, 128 + 9);
}

TEST_F(RuntimeAcceptanceTest, ROOT_CommandIsPid1AndNoHostProcessIsVisible) {
  auto b = bundle({"/bin/sh", "-c", "echo $$; ls /proc | grep -c '^[0-9][0-9]*$'"});
  auto r = run(*b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string pid = r.out.substr(0, r.out.find('\n'));
  EXPECT_EQ(pid, "1");
  int visible = std::stoi(r.out.substr(r.out.find('\n') + 1));
  // sh, ls, grep (and possibly a subshell): nothing of the host's hundreds of processes.
  EXPECT_LE(visible, 4) << r.out;
}

TEST_F(RuntimeAcceptanceTest, ROOT_HostnameIsIsolated) {
  char host_before[256] = {};
  ::gethostname(host_before, sizeof host_before);
  // Without CAP_SYS_ADMIN (Docker's defaults) the container cannot rename itself, and its own
  // name is what the config says.
  auto b =
      bundle({"/bin/sh", "-c", "hostname; hostname changed-inside 2>/dev/null || echo denied"});
  b->config()["hostname"] = "job-host";
  auto r = run(*b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "job-host\ndenied\n");
  char host_after[256] = {};
  ::gethostname(host_after, sizeof host_after);
  EXPECT_STREQ(host_before, host_after);
}

TEST_F(RuntimeAcceptanceTest, ROOT_SysIsReadOnlyAndMaskedPathsAreMasked) {
  auto b = bundle({"/bin/sh", "-c",
                   "/payload write /sys/kernel/gantry-x; wc -c < /proc/keys; "
                   "ls -A /sys/firmware | wc -l; /payload write /proc/sys/kernel/hostname"});
  auto r = run(*b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // /proc/keys is masked (empty), /sys/firmware is an empty read-only dir, /proc/sys read-only.
  EXPECT_EQ(r.out, "EROFS\n0\n0\nEROFS\n");
}

TEST_F(RuntimeAcceptanceTest, ROOT_NoMountIsPossibleInside) {
  auto b = bundle({"/payload", "mount"});
  auto r = run(*b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "EPERM\n");
}

TEST_F(RuntimeAcceptanceTest, ROOT_CapabilitiesAreDockersDefaultsOrAsConfigured) {
  auto b = bundle({"/payload", "print-status", "CapEff"});
  auto r = run(*b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Docker's 14: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE
  // NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
  EXPECT_EQ(trim(r.out), "00000000a80425fb");

  Json caps = {"CAP_NET_BIND_SERVICE"};
  for (const char* set : {"bounding", "effective", "permitted"})
    b->config()["process"]["capabilities"][set] = caps;
  b->config()["process"]["capabilities"]["ambient"] = Json::array();
  b->config()["process"]["capabilities"]["inheritable"] = Json::array();
  r = run(*b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(trim(r.out), "0000000000000400");
}

TEST_F(RuntimeAcceptanceTest, ROOT_DefaultSeccompProfileDeniesKeyctl) {
  auto b = bundle({"/payload", "keyctl"});
  ASSERT_TRUE(b->config()["linux"].contains("seccomp")) << "runtime spec has no seccomp profile";
  auto r = run(*b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "EPERM\n");
  // Without the profile the same call gets through (or fails for another reason than EPERM).
  b->config()["linux"].erase("seccomp");
  r = run(*b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out, "EPERM\n");
}

TEST_F(RuntimeAcceptanceTest, ROOT_UserGroupsCwdAndEnvAreHonoured) {
  auto b = bundle({"/bin/sh", "-c", "/payload ids; echo \"$GREETING\"; umask"});
  b->config()["process"]["user"] = {
      {"uid", 65534}, {"gid", 65534}, {"additionalGids", {5, 7}}, {"umask", 23}};
  b->config()["process"]["cwd"] = "/tmp";
  b->config()["process"]["env"].push_back("GREETING=hello from the job");
  auto r = run(*b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "65534 65534 5,7 /tmp\nhello from the job\n0027\n");
}

TEST_F(RuntimeAcceptanceTest, ROOT_ReadOnlyBindMountsAreEnforced) {
  TempDir ro_dir, rw_dir;
  ASSERT_TRUE(write_file(ro_dir.file("given"), "from host").ok());
  auto b = bundle({"/bin/sh", "-c",
                   "cat /in/given; echo; /payload write /in/new; /payload write /out/new"});
  b->config()["mounts"].push_back({{"destination", "/in"},
                                   {"type", "bind"},
                                   {"source", ro_dir.path()},
                                   {"options", {"rbind", "ro"}}});
  b->config()["mounts"].push_back({{"destination", "/out"},
                                   {"type", "bind"},
                                   {"source", rw_dir.path()},
                                   {"options", {"rbind", "rw"}}});
  auto r = run(*b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "from host\nEROFS\nok\n");
  EXPECT_FALSE(path_exists(ro_dir.file("new")));
  EXPECT_EQ(read_file(rw_dir.file("new")).value_or(""), "x");
}

TEST_F(RuntimeAcceptanceTest, ROOT_MemoryLimitOomIsReportedAsOom) {
  auto b = bundle({"/payload", "alloc", "256"});
  b->config()["linux"]["resources"]["memory"] = {{"limit", 32 << 20}, {"swap", 32 << 20}};
  auto r = run(*b);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.out << r.err;
  ASSERT_TRUE(r.stats.is_object()) << "no --stats-file written";
  EXPECT_EQ(r.stats.value("oom_killed", false), true) << r.stats.dump();
  EXPECT_GE(r.stats.value("oom_kills", 0), 1) << r.stats.dump();
  EXPECT_GT(r.stats.value("memory_peak_bytes", 0), 16 << 20) << r.stats.dump();
}

TEST_F(RuntimeAcceptanceTest, ROOT_UsageIsReportedWithoutOom) {
  auto b = bundle({"/payload", "alloc", "8"});
  auto r = run(*b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(r.stats.is_object());
  EXPECT_EQ(r.stats.value("oom_killed", true), false);
  EXPECT_GT(r.stats.value("cpu_usage_ns", 0), 0);
  EXPECT_GE(r.stats.value("memory_peak_bytes", 0), 8 << 20);
}

TEST_F(RuntimeAcceptanceTest, ROOT_PidsLimitStopsAForkBombAndTheHostStaysFine) {
  auto b = bundle({"/payload", "fork-bomb", "5000"});
  b->config()["linux"]["resources"]["pids"] = {{"limit", 32}};
  auto r = run(*b);
  // The bomb kills its own process group at the end; what matters is how far it got.
  ASSERT_FALSE(r.out.empty()) << r.err;
  int forked = std::stoi(r.out);
  EXPECT_LT(forked, 32);
  EXPECT_GT(forked, 0);
  // The host can still fork.
  auto host = run_subprocess({"true"});
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->exit_code, 0);
}

// Whether any process on the host runs `marker` as its argv[1] (the payload's daemonised child).
bool host_has_process_with_arg(const std::string& marker) {
  auto pids = list_dir("/proc");
  if (!pids.ok()) return false;
  for (const auto& p : *pids) {
    if (p.find_first_not_of("0123456789") != std::string::npos) continue;
    auto cmd = read_file("/proc/" + p + "/cmdline");
    if (cmd.ok() && cmd->find(marker) != std::string::npos) return true;
  }
  return false;
}

// Polls for a condition the container brings about, bounded: the wait ends as soon as it holds.
template <typename Pred>
bool wait_until(Pred pred) {
  for (int i = 0; i < 2000; ++i) {
    if (pred()) return true;
    ::usleep(5000);
  }
  return false;
}

TEST_F(RuntimeAcceptanceTest, ROOT_TimeoutKillsATreeWhoseChildDoubleForkedAway) {
  std::string marker = "4242" + std::to_string(::getpid());  // unique sleep length as a marker
  auto b = bundle({"/bin/sh", "-c", "/payload daemonize " + marker + "; exec sleep " + marker});
  auto r = run(*b, {"--timeout", "1"});
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.err;
  EXPECT_NE(r.err.find("timed out"), std::string::npos) << r.err;
  ASSERT_TRUE(r.stats.is_object());
  EXPECT_EQ(r.stats.value("timed_out", false), true);
  EXPECT_FALSE(host_has_process_with_arg(marker)) << "a process of the container survived";
}

TEST_F(RuntimeAcceptanceTest, ROOT_KillReachesDaemonisedGrandchildren) {
  std::string marker = "4343" + std::to_string(::getpid());
  auto b = bundle({"/bin/sh", "-c", "/payload daemonize " + marker + "; exec sleep " + marker});
  std::string id = "acc-kill-" + std::to_string(::getpid());
  // The created container keeps the stdio it was given, so it gets a file, not our pipes.
  std::string log = state_.file("kill.log");
  auto created =
      run_subprocess({"/bin/sh", "-c",
                      std::string("exec \"$0\" runtime --root \"$1\" create --bundle \"$2\" "
                                  "\"$3\" >\"$4\" 2>&1"),
                      GANTRY_BIN, state_.path(), b->dir(), id, log});
  ASSERT_TRUE(created.ok() && created->exit_code == 0) << read_file(log).value_or("");
  auto started = run_subprocess({GANTRY_BIN, "runtime", "--root", state_.path(), "start", id});
  ASSERT_TRUE(started.ok() && started->exit_code == 0) << (started.ok() ? started->err : "");
  ASSERT_TRUE(wait_until([&] { return host_has_process_with_arg(marker); }))
      << "the container's daemonised grandchild never appeared";
  auto deleted = run_subprocess(
      {GANTRY_BIN, "runtime", "--root", state_.path(), "delete", "--force", id});
  ASSERT_TRUE(deleted.ok() && deleted->exit_code == 0) << (deleted.ok() ? deleted->err : "");
  EXPECT_FALSE(host_has_process_with_arg(marker)) << "delete --force left a process behind";
  EXPECT_FALSE(path_exists(state_.file(id)));
}

TEST_F(RuntimeAcceptanceTest, ROOT_ExecRunsInTheRunningContainersNamespaces) {
  auto b = bundle({"/bin/sh", "-c", "echo ready > /tmp/ready; exec sleep 1000"});
  b->config()["hostname"] = "exec-target";
  b->config()["root"]["readonly"] = false;
  b->save();
  std::string id = "acc-exec-" + std::to_string(::getpid());
  detached_.push_back(id);
  std::string log = state_.file("exec.log");
  auto created = run_subprocess({"/bin/sh", "-c",
                                 "exec \"$0\" runtime --root \"$1\" run --detach --bundle \"$2\" "
                                 "\"$3\" >\"$4\" 2>&1",
                                 GANTRY_BIN, state_.path(), b->dir(), id, log});
  ASSERT_TRUE(created.ok() && created->exit_code == 0) << read_file(log).value_or("");
  auto gantry = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {GANTRY_BIN, "runtime", "--root", state_.path()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_subprocess(argv, {.timeout = std::chrono::seconds(60)});
  };
  ASSERT_TRUE(wait_until([&] {
    auto r = gantry({"exec", id, "--", "/bin/cat", "/tmp/ready"});
    return r.ok() && r->out == "ready\n";
  })) << "the container never became ready";
  auto r = gantry({"exec", "--env", "X=from-exec", "--cwd", "/tmp", "--user", "65534:65534", id,
                   "--", "/bin/sh", "-c", "hostname; echo $X; pwd; id -u; cat /proc/1/cmdline"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_EQ(r->out, std::string("exec-target\nfrom-exec\n/tmp\n65534\nsleep") + '\0' + "1000" +
                        '\0');
  auto code = gantry({"exec", id, "--", "/bin/sh", "-c", "exit 7"});
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(code->exit_code, 7);
  auto missing = gantry({"exec", "no-such-container", "--", "/bin/true"});
  ASSERT_TRUE(missing.ok());
  EXPECT_NE(missing->exit_code, 0);
  EXPECT_NE(missing->err.find("no-such-container"), std::string::npos) << missing->err;
  auto del = gantry({"delete", "--force", id});
  ASSERT_TRUE(del.ok() && del->exit_code == 0) << (del.ok() ? del->err : "");
}

TEST_F(RuntimeAcceptanceTest, ROOT_RuncCallersFlagsExecProcessFileDetachAndJsonLog) {
  // What containerd's shim passes: --log/--log-format json globally, exec --process --detach
  // --pid-file.
  auto b = bundle({"/bin/sh", "-c", "echo ready > /tmp/ready; exec sleep 1000"});
  b->config()["root"]["readonly"] = false;
  b->save();
  std::string id = "acc-runc-flags-" + std::to_string(::getpid());
  detached_.push_back(id);
  std::string log = state_.file("runtime.log");
  auto gantry = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {GANTRY_BIN, "runtime", "--root", state_.path(),
                                     "--log", log, "--log-format", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_subprocess(argv, {.timeout = std::chrono::seconds(60)});
  };
  // The created init keeps the runtime's stdout and stderr: send them to a file, not a pipe.
  std::string create_out = state_.file("create.out");
  auto created = run_subprocess({"/bin/sh", "-c",
                                 "exec \"$0\" runtime --root \"$1\" --log \"$2\" --log-format json "
                                 "create --bundle \"$3\" \"$4\" >\"$5\" 2>&1",
                                 GANTRY_BIN, state_.path(), log, b->dir(), id, create_out});
  ASSERT_TRUE(created.ok() && created->exit_code == 0) << read_file(create_out).value_or("");
  auto started = gantry({"start", id});
  ASSERT_TRUE(started.ok() && started->exit_code == 0) << (started.ok() ? started->err : "");

  Json process = b->config()["process"];
  process["args"] = {"/bin/sh", "-c", "cat /tmp/ready > /tmp/seen; echo $FROM_FILE >> /tmp/seen"};
  process["env"] = {"PATH=/bin", "FROM_FILE=process-json"};
  std::string process_file = state_.file("process.json");
  ASSERT_TRUE(write_file(process_file, process.dump()).ok());
  std::string pid_file = state_.file("exec.pid");
  ASSERT_TRUE(wait_until([&] {
    auto r = gantry({"exec", id, "--", "/bin/cat", "/tmp/ready"});
    return r.ok() && r->out == "ready\n";
  })) << "the container never became ready";
  auto exec = gantry({"exec", "--process", process_file, "--detach", "--pid-file", pid_file, id});
  ASSERT_TRUE(exec.ok());
  EXPECT_EQ(exec->exit_code, 0) << exec->err;
  auto pid = read_file(pid_file);
  ASSERT_TRUE(pid.ok());
  EXPECT_GT(std::stoi(*pid), 1);
  ASSERT_TRUE(wait_until([&] {
    auto r = gantry({"exec", id, "--", "/bin/cat", "/tmp/seen"});
    return r.ok() && r->out == "ready\nprocess-json\n";
  })) << "the detached process never ran";

  // Both a command and --process: refused, and the error is also a JSON record in the log.
  auto both = gantry({"exec", "--process", process_file, id, "--", "/bin/true"});
  ASSERT_TRUE(both.ok());
  EXPECT_NE(both->exit_code, 0);
  EXPECT_NE(both->err.find("describes the whole process"), std::string::npos) << both->err;
  auto systemd = gantry({"--systemd-cgroup", "state", id});
  ASSERT_TRUE(systemd.ok());
  EXPECT_NE(systemd->exit_code, 0);
  EXPECT_NE(systemd->err.find("--systemd-cgroup"), std::string::npos) << systemd->err;
  auto text = read_file(log);
  ASSERT_TRUE(text.ok());
  std::vector<Json> errors;
  size_t start = 0;
  while (start < text->size()) {
    size_t nl = text->find('\n', start);
    Json j = Json::parse(text->substr(start, nl - start));  // every line is one JSON record
    if (j["level"] == "error") errors.push_back(j);
    start = nl + 1;
  }
  ASSERT_EQ(errors.size(), 2u) << *text;
  EXPECT_NE(errors[0]["msg"].get<std::string>().find("describes the whole process"),
            std::string::npos);
  EXPECT_NE(errors[1]["msg"].get<std::string>().find("--systemd-cgroup"), std::string::npos);

  auto del = gantry({"delete", "--force", id});
  ASSERT_TRUE(del.ok() && del->exit_code == 0) << (del.ok() ? del->err : "");
}

}  // namespace
}  // namespace gantry
