// Root tests of the cgroup managers against the host's real cgroup file systems. CGROUPS1_
// tests need v1 hierarchies (v1 or hybrid host); CGROUPS2_ tests need a cgroup2 mount — on a
// hybrid host that is the controller-less unified hierarchy, which still has process tracking,
// cgroup.freeze and cgroup.kill. Every test makes its own uniquely named cgroup and destroys
// it; the fixture reaps every process the test forked (it is their subreaper).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

#include "common/file.h"
#include "common/kernel_version.h"
#include "runtime/cgroups/detect.h"
#include "runtime/cgroups/factory.h"
#include "runtime/cgroups/stats.h"
#include "runtime/cgroups/v1.h"
#include "runtime/cgroups/v2.h"
#include "runtime/clone_child.h"

namespace gantry::runtime {
namespace {

// A forked child that waits for go() — so the test can move it into a cgroup first — then
// runs `body(in_fd, out_fd)` and exits 0. Talks over two pipes; never sleeps.
class TestChild {
 public:
  explicit TestChild(std::function<void(int in, int out)> body) {
    GANTRY_CHECK(::pipe2(to_child_, O_CLOEXEC) == 0);
    GANTRY_CHECK(::pipe2(from_child_, O_CLOEXEC) == 0);
    pid_ = ::fork();
    GANTRY_CHECK(pid_ >= 0);
    if (pid_ == 0) {
      ::close(to_child_[1]);
      ::close(from_child_[0]);
      char c;
      if (::read(to_child_[0], &c, 1) != 1) ::_exit(1);
      body(to_child_[0], from_child_[1]);
      ::_exit(0);
    }
    ::close(to_child_[0]);
    ::close(from_child_[1]);
  }
  ~TestChild() {
    ::close(to_child_[1]);
    ::close(from_child_[0]);
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  void send(char c = 'g') { GANTRY_CHECK(::write(to_child_[1], &c, 1) == 1); }
  // One line from the child; "" at EOF. The poll bound only keeps a broken test from
  // hanging the suite; it is not how the test synchronises.
  std::string read_line() {
    std::string line;
    char c;
    for (;;) {
      struct pollfd p = {from_child_[0], POLLIN, 0};
      if (::poll(&p, 1, 60'000) != 1) return line + "<no answer from child>";
      if (::read(from_child_[0], &c, 1) != 1 || c == '\n') return line;
      line.push_back(c);
    }
  }
  int wait() {
    int status = 0;
    GANTRY_CHECK(::waitpid(pid_, &status, 0) == pid_);
    reaped_ = true;
    return status;
  }

 private:
  int to_child_[2];
  int from_child_[2];
  pid_t pid_ = -1;
  bool reaped_ = false;
};

void report(int fd, const std::string& line) {
  std::string l = line + "\n";
  (void)!::write(fd, l.data(), l.size());
}

// Echoes every byte it gets until EOF: proof the child runs (after a thaw).
void echo(int in, int out) {
  char c;
  while (::read(in, &c, 1) == 1) (void)!::write(out, &c, 1);
}

// Double-forks a session-leader grandchild that reports its pid and waits to be killed.
void daemonize(int in, int out) {
  pid_t p = ::fork();
  if (p == 0) {
    ::setsid();
    if (::fork() == 0) {
      report(out, std::to_string(::getpid()));
      for (;;) ::pause();
    }
    ::_exit(0);
  }
  ::waitpid(p, nullptr, 0);
}

// Forks forever; every child does too. Run only under a pids limit.
void fork_bomb(int, int out) {
  report(out, "armed");
  for (;;) (void)::fork();
}

std::map<std::string, std::string> proc_cgroups(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/cgroup");
  GANTRY_CHECK(text.ok());
  auto parsed = parse_proc_cgroup(*text);
  GANTRY_CHECK(parsed.ok());
  return *parsed;
}

std::string trimmed(const std::string& path) {
  auto text = read_file(path);
  if (!text.ok()) return "<" + text.error().message() + ">";
  std::string s = *text;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

class CgroupsTestBase : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to make cgroups";
    auto layout = detect_cgroup_layout();
    if (!layout.ok()) GTEST_SKIP() << layout.error().message();
    layout_ = *layout;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::string("/gantry/cgtest-") + info->name() + "-" + std::to_string(::getpid());
    // Orphaned grandchildren come to us, so the test can wait for them and reap them.
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  }
  void TearDown() override {
    if (manager_) {
      EXPECT_TRUE(manager_->destroy().ok());
    }
    // Everything the test forked is dead now (destroy killed it): reap it.
    while (::waitpid(-1, nullptr, 0) > 0) {
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  }

  CgroupLayout layout_;
  std::string path_;
  std::unique_ptr<CgroupManager> manager_;
};

class CgroupsV1Test : public CgroupsTestBase {
 protected:
  void SetUp() override {
    CgroupsTestBase::SetUp();
    if (IsSkipped()) return;
    if (layout_.mode == CgroupLayout::Mode::kV2)
      GTEST_SKIP() << "host has no cgroup v1 hierarchies";
    for (const char* c : {"memory", "cpu", "cpuacct", "pids", "freezer"}) {
      if (!layout_.v1_hierarchy(c))
        GTEST_SKIP() << "cgroup v1 controller '" << c << "' not mounted";
    }
    auto m = make_cgroup_manager(path_);
    ASSERT_TRUE(m.ok()) << m.error().message();
    manager_ = std::move(m).value();
    ASSERT_EQ(manager_->version(), CgroupVersion::kV1);
  }
  std::string dir(const char* controller) {
    return join_path(layout_.v1_hierarchy(controller)->mount_point, path_);
  }
};

TEST_F(CgroupsV1Test, CGROUPS1_LimitsAreAppliedAndReadBack) {
  Resources r;
  r.memory_limit = 64 << 20;
  r.cpu_shares = 512;
  r.cpu_quota = 50000;
  r.cpu_period = 100000;
  r.pids_limit = 50;
  ASSERT_TRUE(manager_->create(r).ok());
  EXPECT_EQ(trimmed(dir("memory") + "/memory.limit_in_bytes"), "67108864");
  EXPECT_EQ(trimmed(dir("cpu") + "/cpu.shares"), "512");
  EXPECT_EQ(trimmed(dir("cpu") + "/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(trimmed(dir("cpu") + "/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(trimmed(dir("pids") + "/pids.max"), "50");
  if (layout_.v1_hierarchy("cpuset")) {
    std::string parent = layout_.v1_hierarchy("cpuset")->mount_point;
    EXPECT_EQ(trimmed(dir("cpuset") + "/cpuset.cpus"), trimmed(parent + "/cpuset.cpus"));
    EXPECT_EQ(trimmed(dir("cpuset") + "/cpuset.mems"), trimmed(parent + "/cpuset.mems"));
  }
  r.memory_limit = 32 << 20;
  r.pids_limit = 0;
  ASSERT_TRUE(manager_->update(r).ok());
  EXPECT_EQ(trimmed(dir("memory") + "/memory.limit_in_bytes"), "33554432");
  EXPECT_EQ(trimmed(dir("pids") + "/pids.max"), "max");
}

TEST_F(CgroupsV1Test, CGROUPS1_BadValueErrorNamesFileValueAndDir) {
  Resources r;
  r.cpuset_cpus = "4096";  // no such CPU
  if (!layout_.v1_hierarchy("cpuset")) GTEST_SKIP() << "cpuset not mounted";
  Status s = manager_->create(r);
  ASSERT_FALSE(s.ok());
  // The errno varies with the kernel (EINVAL, ERANGE); the shape does not.
  std::string want = "write 'cpuset.cpus' = '4096' in '" + dir("cpuset") + "': ";
  EXPECT_EQ(s.error().message().substr(0, want.size()), want) << s.error().message();
  EXPECT_GT(s.error().message().size(), want.size());
  // Creation rolled back.
  EXPECT_FALSE(path_exists(dir("memory")));
}

TEST_F(CgroupsV1Test, CGROUPS1_ChildJoinsEveryHierarchy) {
  ASSERT_TRUE(manager_->create(Resources{}).ok());
  TestChild child(echo);
  ASSERT_TRUE(manager_->add_process(child.pid()).ok());
  auto cgroups = proc_cgroups(child.pid());
  for (const auto& h : layout_.v1) {
    std::string key = h.controllers.empty() ? "name=" + h.name : h.controllers[0];
    EXPECT_EQ(cgroups[key], path_) << key;
  }
  if (!layout_.unified_mount.empty()) {
    EXPECT_EQ(cgroups[""], path_);
  }
  auto pids = manager_->pids();
  ASSERT_TRUE(pids.ok()) << pids.error().message();
  EXPECT_EQ(*pids, std::vector<pid_t>{child.pid()});
  ASSERT_TRUE(manager_->destroy().ok());
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  for (const auto& d : manager_->host_paths()) EXPECT_FALSE(path_exists(d)) << d;
}

TEST_F(CgroupsV1Test, CGROUPS1_KillAllReachesADaemonizedGrandchild) {
  ASSERT_TRUE(manager_->create(Resources{}).ok());
  TestChild child(daemonize);
  ASSERT_TRUE(manager_->add_process(child.pid()).ok());
  child.send();
  pid_t grandchild = std::stoi(child.read_line());
  EXPECT_EQ(child.wait(), 0);  // the parent is gone; the grandchild lives on, orphaned
  EXPECT_EQ(*manager_->pids(), std::vector<pid_t>{grandchild});
  ASSERT_TRUE(manager_->kill_all(SIGKILL).ok());
  int status = 0;
  ASSERT_EQ(::waitpid(grandchild, &status, 0), grandchild);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_TRUE(manager_->pids()->empty());
  // kill_all thawed the cgroup again.
  EXPECT_EQ(trimmed(dir("freezer") + "/freezer.state"), "THAWED");
}

TEST_F(CgroupsV1Test, CGROUPS1_PidsLimitStopsAForkBomb) {
  Resources r;
  r.pids_limit = 16;
  ASSERT_TRUE(manager_->create(r).ok());
  TestChild child([](int in, int out) {
    int forked = 0;
    for (int i = 0; i < 1000; ++i) {
      pid_t p = ::fork();
      if (p == 0) {
        for (;;) ::pause();
      }
      if (p < 0) {
        report(out, std::to_string(forked) + " " + (errno == EAGAIN ? "EAGAIN" : strerror(errno)));
        break;
      }
      ++forked;
    }
    for (;;) ::pause();
  });
  ASSERT_TRUE(manager_->add_process(child.pid()).ok());
  child.send();
  // The child itself is one of the 16.
  EXPECT_EQ(child.read_line(), "15 EAGAIN");
  auto usage = manager_->usage();
  ASSERT_TRUE(usage.ok()) << usage.error().message();
  EXPECT_EQ(usage->pids_current, 16u);
  EXPECT_EQ(manager_->pids()->size(), 16u);
  ASSERT_TRUE(manager_->destroy().ok());
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

TEST_F(CgroupsV1Test, CGROUPS1_KillAllStopsARunningForkBomb) {
  Resources r;
  r.pids_limit = 64;
  ASSERT_TRUE(manager_->create(r).ok());
  TestChild child(fork_bomb);
  ASSERT_TRUE(manager_->add_process(child.pid()).ok());
  child.send();
  ASSERT_EQ(child.read_line(), "armed");
  ASSERT_TRUE(manager_->kill_all(SIGKILL).ok());
  // Everything the bomb made comes to us (subreaper): wait for all of it to die. A process
  // kill_all missed would keep forking, and this wait would not end.
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  while (::waitpid(-1, nullptr, 0) > 0) {
  }
  EXPECT_TRUE(manager_->pids()->empty());
}

TEST_F(CgroupsV1Test, CGROUPS1_MemoryLimitOomKillsAnAllocator) {
  Resources r;
  r.memory_limit = 32 << 20;
  if (path_exists(
          join_path(layout_.v1_hierarchy("memory")->mount_point, "memory.memsw.limit_in_bytes")))
    r.memory_swap = 32 << 20;  // no escaping into swap
  ASSERT_TRUE(manager_->create(r).ok());
  TestChild child([](int, int out) {
    for (int i = 0; i < 256; ++i) {
      char* p = static_cast<char*>(::malloc(1 << 20));
      if (!p) ::_exit(3);
      std::memset(p, 1, 1 << 20);
    }
    report(out, "survived");
  });
  ASSERT_TRUE(manager_->add_process(child.pid()).ok());
  child.send();
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  auto usage = manager_->usage();
  ASSERT_TRUE(usage.ok()) << usage.error().message();
  EXPECT_GE(usage->oom_kills, 1u);
  EXPECT_TRUE(usage->oom_killed());
  EXPECT_GT(usage->memory_peak_bytes, 16u << 20);
  EXPECT_LE(usage->memory_peak_bytes, 32u << 20);
}

TEST_F(CgroupsV1Test, CGROUPS1_FreezeStopsAndThawResumes) {
  ASSERT_TRUE(manager_->create(Resources{}).ok());
  TestChild child(echo);
  ASSERT_TRUE(manager_->add_process(child.pid()).ok());
  child.send();
  child.send('a');
  child.send('\n');
  EXPECT_EQ(child.read_line(), "a");
  ASSERT_TRUE(manager_->freeze().ok());
  EXPECT_EQ(trimmed(dir("freezer") + "/freezer.state"), "FROZEN");
  child.send('b');  // queued in the pipe; answered only after the thaw
  ASSERT_TRUE(manager_->thaw().ok());
  EXPECT_EQ(trimmed(dir("freezer") + "/freezer.state"), "THAWED");
  child.send('\n');
  EXPECT_EQ(child.read_line(), "b");
}

TEST_F(CgroupsV1Test, CGROUPS1_UsageCountsCpuTime) {
  ASSERT_TRUE(manager_->create(Resources{}).ok());
  TestChild child([](int, int out) {
    volatile uint64_t x = 0;
    for (uint64_t i = 0; i < 50'000'000; ++i) x = x + i;
    report(out, "done");
  });
  ASSERT_TRUE(manager_->add_process(child.pid()).ok());
  child.send();
  EXPECT_EQ(child.read_line(), "done");
  auto usage = manager_->usage();
  ASSERT_TRUE(usage.ok()) << usage.error().message();
  EXPECT_GT(usage->cpu_usage_ns, 1'000'000u);  // 50M additions take far more than 1 ms
  EXPECT_EQ(usage->oom_kills, 0u);
}

TEST_F(CgroupsV1Test, CGROUPS1_DestroyOfMissingCgroupSucceeds) {
  EXPECT_TRUE(manager_->destroy().ok());
  ASSERT_TRUE(manager_->create(Resources{}).ok());
  ASSERT_TRUE(manager_->destroy().ok());
  EXPECT_TRUE(manager_->destroy().ok());
  for (const auto& d : manager_->host_paths()) EXPECT_FALSE(path_exists(d)) << d;
}

class CgroupsV2Test : public CgroupsTestBase {
 protected:
  void SetUp() override {
    CgroupsTestBase::SetUp();
    if (IsSkipped()) return;
    if (layout_.unified_mount.empty()) GTEST_SKIP() << "host has no cgroup2 mount";
    manager_ = std::make_unique<CgroupV2Manager>(layout_.unified_mount, path_);
    dir_ = join_path(layout_.unified_mount, path_);
  }
  std::string dir_;
};

TEST_F(CgroupsV2Test, CGROUPS2_TracksAProcess) {
  ASSERT_TRUE(manager_->create(Resources{}).ok());
  TestChild child(echo);
  ASSERT_TRUE(manager_->add_process(child.pid()).ok());
  EXPECT_EQ(proc_cgroups(child.pid())[""], path_);
  EXPECT_EQ(*manager_->pids(), std::vector<pid_t>{child.pid()});
  auto usage = manager_->usage();
  ASSERT_TRUE(usage.ok()) << usage.error().message();
  EXPECT_EQ(usage->pids_current, 1u);
  ASSERT_TRUE(manager_->destroy().ok());
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_FALSE(path_exists(dir_));
}

TEST_F(CgroupsV2Test, CGROUPS2_CloneStartsTheChildInTheCgroup) {
  ASSERT_TRUE(manager_->create(Resources{}).ok());
  UniqueFd target = manager_->open_clone_target();
  ASSERT_TRUE(target);
  int pipefd[2];
  ASSERT_EQ(::pipe2(pipefd, O_CLOEXEC), 0);
  ClonedChild c = clone_child(0, target.get());
  if (c.pid == 0) {
    ::close(pipefd[1]);
    char b;
    (void)::read(pipefd[0], &b, 1);  // until the parent has looked
    ::_exit(0);
  }
  ::close(pipefd[0]);
  ASSERT_GT(c.pid, 0);
  // Linux 5.7+ has CLONE_INTO_CGROUP; before it, the fallback still makes the child.
  EXPECT_EQ(c.in_cgroup, running_kernel().at_least(5, 7));
  if (c.in_cgroup) {
    EXPECT_EQ(proc_cgroups(c.pid)[""], path_);  // no cgroup.procs write needed
  } else {
    EXPECT_NE(proc_cgroups(c.pid)[""], path_);
  }
  ::close(pipefd[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(c.pid, &status, 0), c.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_TRUE(manager_->destroy().ok());
  EXPECT_FALSE(path_exists(dir_));
}

TEST_F(CgroupsV2Test, CGROUPS2_KillAllStopsARunningForkBomb) {
  auto controllers = read_file(join_path(layout_.unified_mount, "cgroup.controllers"));
  ASSERT_TRUE(controllers.ok());
  Resources r;
  std::unique_ptr<CgroupManager> limiter;  // a v1 pids cgroup when v2 has no pids controller
  if (controllers->find("pids") != std::string::npos) {
    r.pids_limit = 64;
  } else if (layout_.v1_hierarchy("pids")) {
    CgroupV1Hierarchy pids = *layout_.v1_hierarchy("pids");
    limiter =
        std::make_unique<CgroupV1Manager>(std::vector<CgroupV1Hierarchy>{pids}, path_ + "-limit");
    Resources limit;
    limit.pids_limit = 64;
    ASSERT_TRUE(limiter->create(limit).ok());
  } else {
    GTEST_SKIP() << "no pids controller to keep a fork bomb bounded";
  }
  ASSERT_TRUE(manager_->create(r).ok());
  TestChild child(fork_bomb);
  if (limiter) {
    ASSERT_TRUE(limiter->add_process(child.pid()).ok());
  }
  ASSERT_TRUE(manager_->add_process(child.pid()).ok());
  child.send();
  ASSERT_EQ(child.read_line(), "armed");
  ASSERT_TRUE(manager_->kill_all(SIGKILL).ok());
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  while (::waitpid(-1, nullptr, 0) > 0) {
  }
  EXPECT_TRUE(manager_->pids()->empty());
  if (limiter) {
    EXPECT_TRUE(limiter->destroy().ok());
  }
}

TEST_F(CgroupsV2Test, CGROUPS2_FreezeStopsAndThawResumes) {
  ASSERT_TRUE(manager_->create(Resources{}).ok());
  if (!path_exists(dir_ + "/cgroup.freeze")) GTEST_SKIP() << "kernel has no cgroup.freeze (< 5.2)";
  TestChild child(echo);
  ASSERT_TRUE(manager_->add_process(child.pid()).ok());
  child.send();
  ASSERT_TRUE(manager_->freeze().ok());
  auto events = read_file(dir_ + "/cgroup.events");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(*parse_cgroup_keyed(*events, "frozen", "cgroup.events"), 1u);
  child.send('b');  // answered only after the thaw
  ASSERT_TRUE(manager_->thaw().ok());
  child.send('\n');
  EXPECT_EQ(child.read_line(), "b");
}

TEST_F(CgroupsV2Test, CGROUPS2_KillAllReachesADaemonizedGrandchild) {
  ASSERT_TRUE(manager_->create(Resources{}).ok());
  if (!path_exists(dir_ + "/cgroup.kill")) GTEST_SKIP() << "kernel has no cgroup.kill (< 5.14)";
  TestChild child(daemonize);
  ASSERT_TRUE(manager_->add_process(child.pid()).ok());
  child.send();
  pid_t grandchild = std::stoi(child.read_line());
  EXPECT_EQ(child.wait(), 0);
  EXPECT_EQ(*manager_->pids(), std::vector<pid_t>{grandchild});
  ASSERT_TRUE(manager_->kill_all(SIGKILL).ok());
  int status = 0;
  ASSERT_EQ(::waitpid(grandchild, &status, 0), grandchild);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

TEST_F(CgroupsV2Test, CGROUPS2_DeviceFilterIsEnforced) {
  // Root outside the cgroup can open /dev/kmsg; inside, the default rules forbid it.
  int probe = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (probe < 0) GTEST_SKIP() << "cannot open /dev/kmsg here: " << std::strerror(errno);
  ::close(probe);
  Resources r;
  r.devices.resize(1);  // deny all; the standard allows follow
  Status created = manager_->create(r);
  ASSERT_TRUE(created.ok()) << created.error().message();
  TestChild child([](int, int out) {
    auto try_open = [](const char* path) -> std::string {
      int fd = ::open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) return errno == EPERM ? "EPERM" : std::strerror(errno);
      ::close(fd);
      return "ok";
    };
    report(out, try_open("/dev/null") + " " + try_open("/dev/kmsg"));
  });
  ASSERT_TRUE(manager_->add_process(child.pid()).ok());
  child.send();
  EXPECT_EQ(child.read_line(), "ok EPERM");
  EXPECT_EQ(child.wait(), 0);
}

TEST_F(CgroupsV2Test, CGROUPS2_KernelAcceptsTheFilterOfEveryRuleShape) {
  auto rule = [](bool allow, std::string type, std::optional<int64_t> major,
                 std::optional<int64_t> minor, std::string access) {
    DeviceRule r;
    r.allow = allow;
    r.type = std::move(type);
    r.major = major;
    r.minor = minor;
    r.access = std::move(access);
    return r;
  };
  Resources r;
  r.devices = {rule(false, "a", std::nullopt, std::nullopt, "rwm"),
               rule(true, "c", 10, 229, "r"),           // partial access allow
               rule(false, "c", 1, 3, "w"),             // partial access deny
               rule(true, "b", 8, std::nullopt, "rw"),  // wildcard minor
               rule(true, "c", std::nullopt, 5, "m"),   // wildcard major
               rule(true, "a", std::nullopt, std::nullopt, "r")};
  Status created = manager_->create(r);
  EXPECT_TRUE(created.ok()) << created.error().message();
}

TEST_F(CgroupsV2Test, CGROUPS2_LimitsUseTheControllersTheHostHas) {
  Resources r;
  r.pids_limit = 8;
  auto controllers = read_file(join_path(layout_.unified_mount, "cgroup.controllers"));
  ASSERT_TRUE(controllers.ok());
  Status s = manager_->create(r);
  if (controllers->find("pids") != std::string::npos) {
    ASSERT_TRUE(s.ok()) << s.error().message();
    EXPECT_EQ(trimmed(dir_ + "/pids.max"), "8");
  } else {
    // A hybrid host's unified hierarchy: the controller lives in v1.
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code(), ErrorCode::kFailedPrecondition);
    EXPECT_NE(s.error().message().find("controller 'pids' is not available in '" +
                                       layout_.unified_mount + "'"),
              std::string::npos)
        << s.error().message();
    EXPECT_FALSE(path_exists(dir_));
  }
}

}  // namespace
}  // namespace gantry::runtime
