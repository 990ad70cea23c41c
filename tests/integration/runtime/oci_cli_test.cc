// Root tests of `gantry runtime` driven through the real binary, as containerd drives runc:
// lifecycle, run exit codes, pid file, hooks, console socket, list, spec, bad input, the
// same results as runc and crun, and no leftovers after many runs.
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <iostream>

#include "common/file.h"
#include "common/json.h"
#include "common/subprocess.h"
#include "common/unique_fd.h"
#include "runtime/oci_config.h"
#include "tests/support/bundle.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime {
namespace {

using testing::TempDir;
using testing::TestBundle;

struct Cmd {
  int code = -1;
  std::string out;
  std::string err;
};

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

class OciCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Containers made by `create` outlive it; as their subreaper this test reaps them, so no
    // zombie outlives a test whatever the host's pid 1 does.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  }
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!testing::have_static_busybox()) GTEST_SKIP() << "needs busybox-static";
    root_ = tmp_.file("root");
  }
  void TearDown() override {
    // Whatever a failed test left running is removed, then reaped.
    auto ids = list_dir(root_);
    if (ids.ok()) {
      for (const auto& id : *ids) (void)gantry({"delete", "--force", id});
    }
    reap();
  }
  // Container state dirs left under the root; the seccomp cache (a dot name) is not one.
  std::vector<std::string> state_dirs() const {
    auto names = list_dir(root_);
    if (!names.ok()) return {};
    std::erase_if(*names, [](const std::string& n) { return n.starts_with("."); });
    return *names;
  }
  static void reap() {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }

  // Runs `gantry runtime --root <root> args...`. stdout and stderr go to files, not pipes: a
  // created container inherits them and would hold a pipe open until it exits.
  Cmd gantry(const std::vector<std::string>& args, const std::string& runtime = GANTRY_BIN) {
    std::vector<std::string> argv;
    if (runtime == GANTRY_BIN) argv = {GANTRY_BIN, "runtime", "--root", root_};
    else argv = {runtime, "--root", tmp_.file(runtime.substr(runtime.rfind('/') + 1) + "-root")};
    argv.insert(argv.end(), args.begin(), args.end());
    return shell(argv);
  }
  Cmd shell(const std::vector<std::string>& argv, const std::string& prefix = "") {
    std::string cmd = prefix;
    for (const auto& a : argv) cmd += shell_quote(a) + " ";
    std::string out = tmp_.file("out"), err = tmp_.file("err");
    cmd += "</dev/null >" + shell_quote(out) + " 2>" + shell_quote(err);
    auto r = run_subprocess({"/bin/sh", "-c", cmd});
    Cmd c;
    if (!r.ok()) {
      c.err = r.error().message();
      return c;
    }
    c.code = r->exit_code;
    c.out = read_file(out).value_or("");
    c.err = read_file(err).value_or("");
    return c;
  }
  Json state_of(const std::string& id) {
    Cmd c = gantry({"state", id});
    EXPECT_EQ(c.code, 0) << c.err;
    auto j = parse_json(c.out, "state output");
    return j.ok() ? *j : Json();
  }
  // Nothing of the container is left: no state dir, no cgroup.
  void expect_gone(const std::string& id) {
    EXPECT_FALSE(path_exists(join_path(root_, id))) << id;
    for (const char* base : {"/sys/fs/cgroup/gantry/", "/sys/fs/cgroup/unified/gantry/",
                             "/sys/fs/cgroup/memory/gantry/", "/sys/fs/cgroup/pids/gantry/"}) {
      EXPECT_FALSE(path_exists(base + id)) << base << id;
    }
  }

  // Sends `gantry runtime kill id signal` and waits for the init's exit. `kill` sends the signal
  // and returns, as runc's does; the init is gone once its exit (namespace teardown included)
  // is through, which its pidfd says.
  void kill_and_wait(const std::string& id, const std::vector<std::string>& kill_args) {
    int pid = state_of(id).value("pid", 0);
    ASSERT_GT(pid, 0);
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    ASSERT_TRUE(pidfd) << std::strerror(errno);
    Cmd c = gantry(kill_args);
    ASSERT_EQ(c.code, 0) << c.err;
    pollfd exited{pidfd.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&exited, 1, 60'000), 1) << "the init outlived the signal for a minute";
  }

  TempDir tmp_{"gantry-oci"};
  std::string root_;
};

TEST_F(OciCliTest, ROOT_FullLifecycle) {
  TestBundle bundle({"/payload", "sleep", "1000"});
  std::string pid_file = tmp_.file("pid");
  Cmd c = gantry({"create", "c1", "--bundle", bundle.dir(), "--pid-file", pid_file});
  ASSERT_EQ(c.code, 0) << c.err;
  Json s = state_of("c1");
  EXPECT_EQ(s["status"], "created");
  EXPECT_EQ(s["id"], "c1");
  EXPECT_EQ(s["bundle"], bundle.dir());
  EXPECT_EQ(s["ociVersion"], "1.0.2");
  ASSERT_TRUE(s.contains("pid"));
  EXPECT_EQ(std::to_string(s["pid"].get<int>()), *read_file(pid_file));
  // The init exists and sits in its own mount namespace.
  pid_t pid = s["pid"].get<pid_t>();
  char self_ns[64] = {}, its_ns[64] = {};
  ASSERT_GT(::readlink("/proc/self/ns/mnt", self_ns, sizeof self_ns - 1), 0);
  ASSERT_GT(::readlink(("/proc/" + std::to_string(pid) + "/ns/mnt").c_str(), its_ns,
                       sizeof its_ns - 1), 0);
  EXPECT_STRNE(self_ns, its_ns);

  c = gantry({"start", "c1"});
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(state_of("c1")["status"], "running");
  c = gantry({"start", "c1"});
  EXPECT_NE(c.code, 0);
  EXPECT_NE(c.err.find("container is running, not created"), std::string::npos) << c.err;

  c = gantry({"delete", "c1"});
  EXPECT_NE(c.code, 0);
  EXPECT_NE(c.err.find("container is running; stop it first or use --force"),
            std::string::npos) << c.err;

  ASSERT_NO_FATAL_FAILURE(kill_and_wait("c1", {"kill", "c1", "KILL"}));
  EXPECT_EQ(state_of("c1")["status"], "stopped");
  EXPECT_FALSE(state_of("c1").contains("pid"));
  c = gantry({"kill", "c1", "KILL"});
  EXPECT_NE(c.code, 0);
  EXPECT_NE(c.err.find("container is stopped"), std::string::npos) << c.err;

  c = gantry({"delete", "c1"});
  ASSERT_EQ(c.code, 0) << c.err;
  expect_gone("c1");
  c = gantry({"state", "c1"});
  EXPECT_EQ(c.err, "gantry: container 'c1' does not exist\n");
  EXPECT_NE(c.code, 0);
}

TEST_F(OciCliTest, ROOT_KillAllAndForceDelete) {
  TestBundle bundle({"/payload", "daemonize", "1000"});
  bundle.config()["linux"]["namespaces"] = Json::array({{{"type", "mount"}}, {{"type", "uts"}}});
  bundle.save();
  // Without a pid namespace the daemonized grandchild survives its parent; only the cgroup
  // finds it.
  Cmd c = gantry({"run", "--detach", "d1", "--bundle", bundle.dir()});
  ASSERT_EQ(c.code, 0) << c.err;
  c = gantry({"delete", "--force", "d1"});
  ASSERT_EQ(c.code, 0) << c.err;
  expect_gone("d1");

  TestBundle sleeper({"/payload", "sleep", "1000"});
  ASSERT_EQ(gantry({"run", "-d", "k1", "--bundle", sleeper.dir()}).code, 0);
  ASSERT_NO_FATAL_FAILURE(kill_and_wait("k1", {"kill", "--all", "k1", "9"}));
  EXPECT_EQ(state_of("k1")["status"], "stopped");
  ASSERT_EQ(gantry({"delete", "k1"}).code, 0);
  expect_gone("k1");
}

TEST_F(OciCliTest, ROOT_DeleteOfACreatedContainerNeedsNoForce) {
  TestBundle bundle({"/payload", "exit", "0"});
  ASSERT_EQ(gantry({"create", "c2", "--bundle", bundle.dir()}).code, 0);
  Cmd c = gantry({"delete", "c2"});
  ASSERT_EQ(c.code, 0) << c.err;
  expect_gone("c2");
}

TEST_F(OciCliTest, ROOT_RunExitCodes) {
  struct Case {
    std::vector<std::string> args;
    int code;
  } cases[] = {{{"/payload", "exit", "0"}, 0},
               {{"/payload", "exit", "1"}, 1},
               {{"/payload", "exit", "42"}, 42},
               {{"/payload", "kill-self", "9"}, 128 + 9},
               {{"/payload", "kill-self", "15"}, 128 + 15}};
  int n = 0;
  for (const auto& k : cases) {
    TestBundle bundle(k.args);
    // As pid 1 of a pid namespace a process cannot kill itself with a signal it does not
    // handle; without one, kill-self really ends the init by that signal.
    bundle.config()["linux"]["namespaces"] =
        Json::array({{{"type", "mount"}}, {{"type", "uts"}}, {{"type", "ipc"}}});
    bundle.save();
    std::string id = "r" + std::to_string(n++);
    Cmd c = gantry({"run", id, "--bundle", bundle.dir()});
    EXPECT_EQ(c.code, k.code) << k.args[1] << " " << k.args[2] << ": " << c.err;
    expect_gone(id);
  }
}

TEST_F(OciCliTest, ROOT_RunPassesOutputAndWritesStats) {
  TestBundle bundle({"/bin/sh", "-c", "echo out; echo err >&2; /payload alloc 8"});
  std::string stats = tmp_.file("stats.json");
  Cmd c = gantry({"run", "s1", "--bundle", bundle.dir(), "--stats-file", stats});
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.out, "out\nallocated\n");
  EXPECT_EQ(c.err, "err\n");
  auto j = read_json_file(stats);
  ASSERT_TRUE(j.ok()) << j.error().message();
  EXPECT_EQ((*j)["id"], "s1");
  EXPECT_EQ((*j)["exit_code"], 0);
  EXPECT_GT((*j)["cpu_usage_ns"].get<uint64_t>(), 0u);
  EXPECT_GE((*j)["memory_peak_bytes"].get<uint64_t>(), 8u << 20);
  EXPECT_EQ((*j)["oom_killed"], false);
}

TEST_F(OciCliTest, ROOT_RunTimeoutKillsTheWholeCgroup) {
  TestBundle bundle({"/payload", "sleep", "1000"});
  Cmd c = gantry({"run", "--timeout", "1", "t1", "--bundle", bundle.dir()});
  EXPECT_EQ(c.code, 128 + 9);
  EXPECT_EQ(c.err, "gantry: container 't1' timed out after 1s and was killed\n");
  expect_gone("t1");
}

TEST_F(OciCliTest, ROOT_HooksSeeTheStateAndFireInOrder) {
  TestBundle bundle({"/payload", "exit", "0"});
  std::string log = tmp_.file("hooks.log");
  Json hooks = Json::object();
  for (const char* kind : {"prestart", "createRuntime", "poststart", "poststop"}) {
    std::string script = tmp_.file(std::string("hook-") + kind);
    ASSERT_TRUE(write_file(script, "#!/bin/sh\nprintf '%s %s\\n' \"$1\" \"$(cat)\" >> " +
                                       shell_quote(log) + "\n").ok());
    ::chmod(script.c_str(), 0755);
    hooks[kind] = Json::array({{{"path", script}, {"args", {script, kind}}}});
  }
  bundle.config()["hooks"] = hooks;
  bundle.save();
  Cmd c = gantry({"run", "h1", "--bundle", bundle.dir()});
  ASSERT_EQ(c.code, 0) << c.err;
  auto text = read_file(log);
  ASSERT_TRUE(text.ok());
  std::vector<std::pair<std::string, Json>> seen;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    std::string line = text->substr(pos, end - pos);
    pos = end + 1;
    size_t sp = line.find(' ');
    auto j = parse_json(line.substr(sp + 1), "hook input");
    ASSERT_TRUE(j.ok()) << line;
    seen.emplace_back(line.substr(0, sp), *j);
  }
  ASSERT_EQ(seen.size(), 4u) << *text;
  EXPECT_EQ(seen[0].first, "prestart");
  EXPECT_EQ(seen[1].first, "createRuntime");
  EXPECT_EQ(seen[2].first, "poststart");
  EXPECT_EQ(seen[3].first, "poststop");
  EXPECT_EQ(seen[0].second["status"], "creating");
  EXPECT_EQ(seen[2].second["status"], "running");
  EXPECT_EQ(seen[3].second["status"], "stopped");
  for (const auto& [kind, state] : seen) {
    EXPECT_EQ(state["id"], "h1") << kind;
    EXPECT_EQ(state["bundle"], bundle.dir()) << kind;
  }
  EXPECT_GT(seen[0].second["pid"].get<int>(), 0);
  EXPECT_EQ(seen[0].second["pid"], seen[2].second["pid"]);
  expect_gone("h1");
}

TEST_F(OciCliTest, ROOT_FailingPrestartHookLeavesNothing) {
  TestBundle bundle({"/payload", "sleep", "1000"});
  std::string script = tmp_.file("bad-hook");
  ASSERT_TRUE(write_file(script, "#!/bin/sh\necho 'no network for you' >&2\nexit 7\n").ok());
  ::chmod(script.c_str(), 0755);
  bundle.config()["hooks"] = {{"prestart", {{{"path", script}}}}};
  bundle.save();
  Cmd c = gantry({"create", "hf", "--bundle", bundle.dir()});
  EXPECT_NE(c.code, 0);
  EXPECT_EQ(c.err, "gantry: create container 'hf': prestart hook[0] '" + script +
                       "': exited with status 7: no network for you\n");
  expect_gone("hf");
}

// Receives one fd passed with SCM_RIGHTS on `sock`.
int receive_fd(int sock) {
  char data[256];
  char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{data, sizeof data};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(sock, &msg, 0) < 0) return -1;
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  if (cm == nullptr || cm->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  std::memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return fd;
}

TEST_F(OciCliTest, ROOT_ConsoleSocketReceivesThePtyMaster) {
  TestBundle bundle({"/bin/sh", "-c", "test -t 0 && echo on-a-tty"});
  bundle.config()["process"]["terminal"] = true;
  bundle.save();
  std::string path = tmp_.file("console.sock");
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  // create connects and sends before it returns; the backlog holds the connection meanwhile.
  Cmd c = gantry({"create", "tty1", "--bundle", bundle.dir(), "--console-socket", path});
  ASSERT_EQ(c.code, 0) << c.err;
  UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn);
  UniqueFd master(receive_fd(conn.get()));
  ASSERT_TRUE(master);
  ASSERT_EQ(gantry({"start", "tty1"}).code, 0);
  std::string seen;
  char buf[256];
  // Reads until the process's output arrives or the pty closes (EIO once the process exits).
  while (seen.find("on-a-tty") == std::string::npos) {
    ssize_t n = ::read(master.get(), buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<size_t>(n));
  }
  EXPECT_NE(seen.find("on-a-tty"), std::string::npos) << seen;
  ASSERT_EQ(gantry({"delete", "--force", "tty1"}).code, 0);
  expect_gone("tty1");
}

TEST_F(OciCliTest, ROOT_ListShowsEveryContainer) {
  TestBundle bundle({"/payload", "sleep", "1000"});
  ASSERT_EQ(gantry({"create", "l1", "--bundle", bundle.dir()}).code, 0);
  ASSERT_EQ(gantry({"run", "-d", "l2", "--bundle", bundle.dir()}).code, 0);
  Cmd c = gantry({"list"});
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.out.rfind("ID", 0), 0u) << c.out;
  EXPECT_NE(c.out.find("l1 "), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("created"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("running"), std::string::npos) << c.out;
  c = gantry({"list", "--format", "json"});
  ASSERT_EQ(c.code, 0) << c.err;
  auto j = parse_json(c.out, "list output");
  ASSERT_TRUE(j.ok());
  ASSERT_EQ(j->size(), 2u);
  EXPECT_EQ((*j)[0]["id"], "l1");
  EXPECT_EQ((*j)[0]["status"], "created");
  EXPECT_EQ((*j)[1]["id"], "l2");
  EXPECT_EQ((*j)[1]["status"], "running");
  EXPECT_EQ((*j)[1]["bundle"], bundle.dir());
  ASSERT_EQ(gantry({"delete", "-f", "l1"}).code, 0);
  ASSERT_EQ(gantry({"delete", "-f", "l2"}).code, 0);
  c = gantry({"list", "--format", "json"});
  EXPECT_EQ(c.out, "[]\n");
}

TEST_F(OciCliTest, ROOT_EventsStatsReportsUsage) {
  TestBundle bundle({"/payload", "sleep", "1000"});
  ASSERT_EQ(gantry({"run", "-d", "e1", "--bundle", bundle.dir()}).code, 0);
  Cmd c = gantry({"events", "--stats", "e1"});
  ASSERT_EQ(c.code, 0) << c.err;
  auto j = parse_json(c.out, "events output");
  ASSERT_TRUE(j.ok()) << c.out;
  EXPECT_EQ((*j)["type"], "stats");
  EXPECT_EQ((*j)["id"], "e1");
  EXPECT_GE((*j)["data"]["pids"]["current"].get<int>(), 1);
  ASSERT_EQ(gantry({"delete", "-f", "e1"}).code, 0);
}

TEST_F(OciCliTest, ROOT_SpecWritesTheSecureDefaultAndRefusesToOverwrite) {
  std::string dir = tmp_.file("spec-bundle");
  ASSERT_TRUE(make_dirs(dir).ok());
  Cmd c = gantry({"spec", "--bundle", dir});
  ASSERT_EQ(c.code, 0) << c.err;
  auto j = read_json_file(join_path(dir, "config.json"));
  ASSERT_TRUE(j.ok());
  auto spec = parse_oci_config(*j, dir);
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  ASSERT_TRUE(spec->seccomp.has_value());
  EXPECT_EQ(spec->seccomp->default_action, "SCMP_ACT_ERRNO");
  size_t names = 0;
  for (const auto& rule : spec->seccomp->syscalls) names += rule.names.size();
  EXPECT_GT(names, 200u);
  EXPECT_TRUE(spec->process.no_new_privileges);
  EXPECT_EQ(spec->process.capabilities.bounding.size(), 14u);
  EXPECT_EQ(spec->root.path, join_path(dir, "rootfs"));
  std::string before = *read_file(join_path(dir, "config.json"));
  c = gantry({"spec", "--bundle", dir});
  EXPECT_NE(c.code, 0);
  EXPECT_EQ(c.err, "gantry: spec: '" + join_path(dir, "config.json") +
                       "' exists already; not overwriting it\n");
  EXPECT_EQ(*read_file(join_path(dir, "config.json")), before);
}

// Every bad input: a one-line message naming what is wrong, a non-zero exit, nothing left.
TEST_F(OciCliTest, ROOT_BadInputLeavesNothingBehind) {
  TestBundle good({"/payload", "sleep", "1000"});
  struct Case {
    std::string name;
    std::function<void(TestBundle&)> edit;  // applied to a fresh bundle
    std::vector<std::string> args;          // after "create"; {bundle} is replaced
    std::string message;                    // expected in stderr
  };
  auto bundle_arg = std::string("{bundle}");
  std::vector<Case> cases = {
      {"malformed config",
       [](TestBundle& b) { ASSERT_TRUE(write_file(b.config_path(), "{\"ociVersion\": ").ok()); },
       {"x1", "--bundle", bundle_arg}, "create container 'x1': parse config.json:"},
      {"missing config",
       [](TestBundle& b) { ::unlink(b.config_path().c_str()); },
       {"x2", "--bundle", bundle_arg}, "': no config.json"},
      {"missing rootfs",
       [](TestBundle& b) { b.config()["root"]["path"] = "gone"; b.save(); },
       {"x3", "--bundle", bundle_arg}, "config.json: root.path: rootfs '"},
      {"bad field",
       [](TestBundle& b) { b.config()["linux"]["namespaces"][2]["type"] = "foo"; b.save(); },
       {"x4", "--bundle", bundle_arg},
       "create container 'x4': config.json: linux.namespaces[2].type: unknown namespace 'foo'"},
      {"unsupported field",
       [](TestBundle& b) { b.config()["linux"]["intelRdt"] = {{"closID", "x"}}; b.save(); },
       {"x5", "--bundle", bundle_arg}, "config.json: linux.intelRdt: Intel RDT is not supported"},
      {"missing mount source",
       [](TestBundle& b) {
         b.config()["mounts"].push_back(
             {{"destination", "/data"}, {"source", "/no/such/src"}, {"options", {"rbind"}}});
         b.save();
       },
       {"x6", "--bundle", bundle_arg},
       "config.json: mounts[7].source: '/no/such/src' does not exist"},
      {"bad id", [](TestBundle&) {}, {"../evil", "--bundle", bundle_arg},
       "invalid container id '../evil': must start with a letter or digit"},
      {"missing bundle", [](TestBundle&) {}, {"x7", "--bundle", "/no/such/bundle"},
       "bundle '/no/such/bundle': no such directory"},
  };
  for (auto& k : cases) {
    TestBundle b({"/payload", "sleep", "1000"});
    k.edit(b);
    std::vector<std::string> args = {"create"};
    for (auto a : k.args) args.push_back(a == bundle_arg ? b.dir() : a);
    Cmd c = gantry(args);
    EXPECT_NE(c.code, 0) << k.name;
    EXPECT_NE(c.err.find(k.message), std::string::npos) << k.name << ": " << c.err;
    EXPECT_EQ(std::count(c.err.begin(), c.err.end(), '\n'), 1) << k.name << ": " << c.err;
    EXPECT_EQ(state_dirs(), std::vector<std::string>{}) << k.name << " left a state dir";
  }
  // An id in use: refused, and the container holding it is untouched.
  ASSERT_EQ(gantry({"create", "taken", "--bundle", good.dir()}).code, 0);
  Cmd c = gantry({"create", "taken", "--bundle", good.dir()});
  EXPECT_NE(c.code, 0);
  EXPECT_EQ(c.err, "gantry: create container 'taken': container 'taken' already exists\n");
  EXPECT_EQ(state_of("taken")["status"], "created");
  ASSERT_EQ(gantry({"delete", "taken"}).code, 0);
  // Unknown containers, for every command that takes one.
  for (std::vector<std::string> args :
       {std::vector<std::string>{"start", "ghost"}, {"state", "ghost"}, {"kill", "ghost"},
        {"delete", "ghost"}, {"events", "--stats", "ghost"}}) {
    c = gantry(args);
    EXPECT_NE(c.code, 0) << args[0];
    EXPECT_EQ(c.err, "gantry: container 'ghost' does not exist\n") << args[0];
  }
  c = gantry({"kill", "ghost", "NOPE"});
  EXPECT_EQ(c.err, "gantry: invalid signal 'NOPE'\n");
  EXPECT_EQ(state_dirs(), std::vector<std::string>{});
}

// The same bundle gives the same exit code and output under gantry and runc (and crun).
TEST_F(OciCliTest, ROOT_SameResultsAsRuncAndCrun) {
  struct Case {
    std::vector<std::string> args;
  } cases[] = {{{"/payload", "exit", "0"}},
               {{"/payload", "exit", "3"}},
               {{"/payload", "kill-self", "9"}},
               {{"/bin/sh", "-c", "echo hello; id -u; hostname; exit 5"}},
               {{"/payload", "print-status", "CapEff"}}};
  bool have_runc = ::access("/usr/sbin/runc", X_OK) == 0;
  bool have_crun = ::access("/usr/bin/crun", X_OK) == 0;
  if (!have_runc) GTEST_SKIP() << "runc is not installed";
  int n = 0;
  for (const auto& k : cases) {
    TestBundle bundle(k.args);
    std::string id = "cmp" + std::to_string(n++);
    Cmd ours = gantry({"run", id, "--bundle", bundle.dir()});
    Cmd runc = gantry({"run", "--bundle", bundle.dir(), id}, "/usr/sbin/runc");
    EXPECT_EQ(ours.code, runc.code) << k.args[1] << ": " << ours.err << " | " << runc.err;
    EXPECT_EQ(ours.out, runc.out) << k.args[1];
    (void)gantry({"delete", "-f", id}, "/usr/sbin/runc");
    if (!have_crun) continue;
    // crun 1.8 refuses a hybrid cgroup layout; hide the cgroup2 mount in a private mount ns.
    std::string crun_root = tmp_.file("crun-root");
    Cmd crun = shell({"/usr/bin/crun", "--root", crun_root, "run", "--bundle", bundle.dir(), id},
                     "unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec \"$@\"' "
                     "crun-wrap ");
    if (crun.err.find("cgroup") != std::string::npos && crun.code != ours.code) {
      std::cerr << "crun skipped: " << crun.err;
      have_crun = false;
      continue;
    }
    EXPECT_EQ(ours.code, crun.code) << k.args[1] << ": " << crun.err;
    EXPECT_EQ(ours.out, crun.out) << k.args[1];
  }
}

TEST_F(OciCliTest, ROOT_TwoHundredRunsLeaveNothingBehind) {
  TestBundle bundle({"/payload", "exit", "0"});
  auto mounts_before = read_file("/proc/self/mounts");
  ASSERT_TRUE(mounts_before.ok());
  for (int i = 0; i < 200; ++i) {
    Cmd c = gantry({"run", "many", "--bundle", bundle.dir()});
    ASSERT_EQ(c.code, 0) << "run " << i << ": " << c.err;
  }
  reap();
  EXPECT_EQ(*read_file("/proc/self/mounts"), *mounts_before);
  expect_gone("many");
  EXPECT_EQ(state_dirs(), std::vector<std::string>{});
}

}  // namespace
}  // namespace gantry::runtime
