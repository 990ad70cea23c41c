// Root tests of launch_container(): real namespaces, mounts, cgroups and pivot_root on a
// busybox bundle. Each test runs one container to completion, reads its output through a
// pipe, reaps it and removes its cgroup.
#include "runtime/launcher.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ftw.h>

#include <cstring>
#include <sstream>
#include <thread>

#include "common/file.h"
#include "common/json.h"
#include "common/subprocess.h"
#include "runtime/console.h"
#include "runtime/exec.h"
#include "runtime/oci_config.h"
#include "runtime/seccomp/default_profile.h"
#include "tests/support/bundle.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime {
namespace {

using testing::TestBundle;

// The ContainerSpec of the bundle's default (`runc spec`-shaped) config.json, running `args`.
ContainerSpec default_spec(TestBundle& bundle, std::vector<std::string> args) {
  bundle.config()["process"]["args"] = args;
  auto spec = parse_oci_config(bundle.config(), bundle.dir());
  if (!spec.ok()) throw std::runtime_error(spec.error().message());
  return std::move(*spec);
}

struct RunResult {
  int exit_code = -1;
  std::string out;
};

std::string mounts_now() {
  auto m = read_file("/proc/self/mounts");
  return m.ok() ? *m : "";
}

class LauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (real namespaces, mounts, cgroups)";
    if (!testing::have_static_busybox()) GTEST_SKIP() << "needs busybox-static";
    id_ = std::string("rtl-") + ::testing::UnitTest::GetInstance()->current_test_info()->name() +
          "-" + std::to_string(::getpid());
  }

  Result<LaunchedContainer> launch(LaunchRequest req, int* read_fd) {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    req.id = id_;
    req.stdin_fd = devnull;
    req.stdout_fd = p[1];
    req.stderr_fd = p[1];
    auto c = launch_container(req);
    ::close(p[1]);
    ::close(devnull);
    *read_fd = p[0];
    return c;
  }

  // Runs `spec` to completion: exit code and merged stdout+stderr.
  Result<RunResult> run(const ContainerSpec& spec, bool init_reaper = false) {
    LaunchRequest req;
    req.spec = spec;
    req.spec.init_reaper = init_reaper;
    int fd = -1;
    auto c = launch(std::move(req), &fd);
    if (!c.ok()) {
      ::close(fd);
      return c.error();
    }
    return finish(*c, fd);
  }

  RunResult finish(LaunchedContainer& c, int fd) {
    RunResult r;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    int status = 0;
    EXPECT_EQ(::waitpid(c.pid, &status, 0), c.pid);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    auto st = c.cgroup->destroy();
    EXPECT_TRUE(st.ok()) << st.error().message();
    return r;
  }

  std::string id_;
};

#define ASSERT_RUN(var, expr)                                  \
  auto var##_or = (expr);                                      \
  ASSERT_TRUE(var##_or.ok()) << var##_or.error().message();    \
  const RunResult& var = *var##_or

TEST_F(LauncherTest, ROOT_RunsTrueAndReportsExitCode) {
  TestBundle bundle;
  ASSERT_RUN(ok, run(default_spec(bundle, {"/bin/true"})));
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  ASSERT_RUN(seven, run(default_spec(bundle, {"/payload", "exit", "7"})));
  EXPECT_EQ(seven.exit_code, 7) << seven.out;
}

TEST_F(LauncherTest, ROOT_IsPid1AndSeesNoHostProcess) {
  TestBundle bundle;
  ASSERT_RUN(r, run(default_spec(bundle, {"sh", "-c", "echo $$; echo /proc/[0-9]*"})));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  // The shell is pid 1 and the only process besides the echo... which is a builtin.
  EXPECT_EQ(r.out, "1\n/proc/1\n");
}

TEST_F(LauncherTest, ROOT_HostnameIsIsolated) {
  TestBundle bundle;
  ASSERT_RUN(r, run(default_spec(bundle, {"hostname"})));
  EXPECT_EQ(r.out, "gantry-test\n");
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  EXPECT_STRNE(host, "gantry-test");
}

TEST_F(LauncherTest, ROOT_SysIsReadOnlyAndMaskedPathsAreMasked) {
  TestBundle bundle;
  ASSERT_RUN(sys, run(default_spec(bundle, {"/payload", "write", "/sys/kernel/gantry"})));
  EXPECT_EQ(sys.out, "EROFS\n");
  // /proc/timer_list is a file (masked by /dev/null), /proc/acpi a directory (empty tmpfs).
  ASSERT_TRUE(path_exists("/proc/timer_list") && is_directory("/proc/acpi"));
  ASSERT_RUN(
      masked,
      run(default_spec(
          bundle,
          {"sh", "-c",
           "wc -c < /proc/timer_list; ls -A /proc/acpi | wc -l; /payload write /proc/acpi/x"})));
  EXPECT_EQ(masked.out, "0\n0\nEROFS\n");
  ASSERT_RUN(procsys,
             run(default_spec(bundle, {"/payload", "write", "/proc/sys/kernel/domainname"})));
  EXPECT_EQ(procsys.out, "EROFS\n");
}

TEST_F(LauncherTest, ROOT_CannotMountWithDefaultCaps) {
  TestBundle bundle;
  ASSERT_RUN(r, run(default_spec(bundle, {"/payload", "mount"})));
  EXPECT_EQ(r.out, "EPERM\n");
  ASSERT_RUN(caps, run(default_spec(bundle, {"/payload", "print-status", "CapEff"})));
  EXPECT_EQ(caps.out, "00000000a80425fb\n");
}

TEST_F(LauncherTest, ROOT_RunsInItsOwnLimitedCgroup) {
  if (!is_directory("/sys/fs/cgroup/pids")) GTEST_SKIP() << "needs the cgroup v1 pids hierarchy";
  TestBundle bundle;
  auto spec = default_spec(
      bundle, {"sh", "-c", "cat /sys/fs/cgroup/pids/pids.max; grep pids /proc/self/cgroup"});
  spec.resources.pids_limit = 42;
  ASSERT_RUN(r, run(spec));
  // In its own cgroup namespace the container's cgroup is its root.
  EXPECT_EQ(r.out.substr(0, 3), "42\n") << r.out;
  EXPECT_NE(r.out.find(":pids:/\n"), std::string::npos) << r.out;
}

TEST_F(LauncherTest, ROOT_JoinsOnlyTheV1HierarchiesItNeeds) {
  if (!is_directory("/sys/fs/cgroup/freezer") || !is_directory("/sys/fs/cgroup/pids")) {
    GTEST_SKIP() << "needs cgroup v1 freezer and pids hierarchies";
  }
  TestBundle bundle;
  auto spec = default_spec(bundle, {"sh", "-c", "ls /sys/fs/cgroup; cat /proc/self/cgroup"});
  ASSERT_RUN(plain, run(spec));
  for (const char* h : {"freezer", "pids"}) {
    EXPECT_NE(plain.out.find(std::string(h) + "\n"), std::string::npos) << h << plain.out;
  }
  if (is_directory("/sys/fs/cgroup/cpuset")) {
    EXPECT_EQ(plain.out.find("cpuset\n"), std::string::npos) << plain.out;
  }
  if (is_directory("/sys/fs/cgroup/systemd")) {
    EXPECT_EQ(plain.out.find("systemd\n"), std::string::npos) << plain.out;
  }
  if (is_directory("/sys/fs/cgroup/cpuset")) {
    spec.resources.cpuset_cpus = "0";
    ASSERT_RUN(limited, run(spec));
    EXPECT_NE(limited.out.find("cpuset\n"), std::string::npos) << limited.out;
  }
}

TEST_F(LauncherTest, ROOT_DefaultSeccompProfileBlocksKeyctl) {
  TestBundle bundle;
  auto spec = default_spec(bundle, {"/payload", "keyctl"});
  ASSERT_RUN(open, run(spec));
  EXPECT_EQ(open.out, "ok\n");
  spec.seccomp = default_seccomp_profile();
  ASSERT_RUN(filtered, run(spec));
  EXPECT_EQ(filtered.out, "EPERM\n");
  // Without no_new_privs the filter is loaded while the process still has CAP_SYS_ADMIN.
  spec.process.no_new_privileges = false;
  ASSERT_RUN(no_nnp, run(spec));
  EXPECT_EQ(no_nnp.out, "EPERM\n");
}

TEST_F(LauncherTest, ROOT_RlimitsApply) {
  TestBundle bundle;
  auto spec = default_spec(bundle, {"sh", "-c", "ulimit -n; ulimit -Hn"});
  spec.process.rlimits = {{"RLIMIT_NOFILE", 512, 256}};
  ASSERT_RUN(r, run(spec));
  EXPECT_EQ(r.out, "256\n512\n");
}

TEST_F(LauncherTest, ROOT_SysctlOomScoreDomainAndDevices) {
  TestBundle bundle;
  auto spec = default_spec(
      bundle,
      {"sh", "-c",
       "cat /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj /proc/sys/kernel/domainname; "
       "stat -c '%t,%T %a' /dev/fuse; echo x > /dev/null && readlink /dev/fd && readlink "
       "/dev/ptmx"});
  spec.sysctl = {{"net.ipv4.ip_forward", "1"}};
  spec.process.oom_score_adj = 500;
  spec.domainname = "ci.example";
  spec.devices = {{"/dev/fuse", 'c', 10, 229, 0640, 0, 0}};
  ASSERT_RUN(r, run(spec));
  EXPECT_EQ(r.out, "1\n500\nci.example\na,e5 640\n/proc/self/fd\npts/ptmx\n");
}

TEST_F(LauncherTest, ROOT_UserGroupsCwdAndEnvAreHonoured) {
  TestBundle bundle;
  auto spec = default_spec(bundle, {"/payload", "ids"});
  spec.process.user.uid = 1000;
  spec.process.user.gid = 1001;
  spec.process.user.additional_gids = {10, 20};
  spec.process.cwd = "/tmp";
  ASSERT_RUN(ids, run(spec));
  EXPECT_EQ(ids.out, "1000 1001 10,20 /tmp\n");
  spec.process.args = {"sh", "-c", "echo $GANTRY_JOB; umask"};
  spec.process.env.push_back("GANTRY_JOB=job-42");
  spec.process.user.umask = 027;
  ASSERT_RUN(env, run(spec));
  EXPECT_EQ(env.out, "job-42\n0027\n");
}

TEST_F(LauncherTest, ROOT_ReadOnlyBindMountIsEnforced) {
  TestBundle bundle;
  testing::TempDir data("gantry-data");
  ASSERT_TRUE(write_file(data.file("in"), "hello").ok());
  auto spec = default_spec(
      bundle, {"sh", "-c", "cat /ro/in; /payload write /ro/out; /payload write /rw/out"});
  spec.mounts.push_back({"/ro", "bind", data.path(), {"rbind", "ro"}});
  spec.mounts.push_back({"/rw", "bind", data.path(), {"rbind"}});
  ASSERT_RUN(r, run(spec));
  EXPECT_EQ(r.out, "helloEROFS\nok\n");
  EXPECT_TRUE(path_exists(data.file("out")));
}

TEST_F(LauncherTest, ROOT_FileBindSourceGetsFileMountpoint) {
  TestBundle bundle;
  testing::TempDir data("gantry-data");
  ASSERT_TRUE(write_file(data.file("hosts"), "10.0.0.2 db\n").ok());
  auto spec = default_spec(bundle, {"cat", "/etc/hosts"});
  spec.etc_hosts_file = data.file("hosts");
  ASSERT_RUN(r, run(spec));
  EXPECT_EQ(r.out, "10.0.0.2 db\n");
}

TEST_F(LauncherTest, ROOT_SymlinkDestinationCannotEscapeRootfs) {
  TestBundle bundle;
  testing::TempDir data("gantry-data");
  testing::TempDir outside("gantry-outside");
  // /escape -> <outside dir on the host>: the mount must land inside the rootfs instead.
  ASSERT_EQ(::symlink(outside.path().c_str(), (bundle.rootfs() + "/escape").c_str()), 0);
  ASSERT_TRUE(make_dirs(bundle.rootfs() + outside.path()).ok());
  auto spec = default_spec(bundle, {"/bin/true"});
  spec.root.readonly = false;
  spec.mounts.push_back({"/escape/sub", "tmpfs", "tmpfs", {}});
  ASSERT_RUN(r, run(spec));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_FALSE(path_exists(outside.file("sub")));
  EXPECT_TRUE(is_directory(bundle.rootfs() + outside.path() + "/sub"));
}

TEST_F(LauncherTest, ROOT_OverlayRootMergesThreeLowersAndWritesGoToUpper) {
  TestBundle bundle;
  testing::TempDir layers("gantry-layers");
  std::string l2 = layers.file("l2"), l3 = layers.file("l3"), upper = layers.file("upper"),
              work = layers.file("work"), root = layers.file("root");
  for (const auto& d : {l2 + "/etc", l3 + "/etc", upper, work, root})
    ASSERT_TRUE(make_dirs(d).ok());
  ASSERT_TRUE(write_file(l2 + "/etc/layer", "two\n").ok());
  ASSERT_TRUE(write_file(l2 + "/etc/only2", "from two\n").ok());
  ASSERT_TRUE(write_file(l3 + "/etc/layer", "three\n").ok());
  auto spec =
      default_spec(bundle, {"sh", "-c", "cat /etc/layer /etc/only2; /payload write /tmp/new"});
  spec.root.path = root;
  spec.root.readonly = false;
  spec.root.overlay_lower = {bundle.rootfs(), l2, l3};
  spec.root.overlay_upper = upper;
  spec.root.overlay_work = work;
  ASSERT_RUN(r, run(spec));
  EXPECT_EQ(r.out, "three\nfrom two\nok\n");
  EXPECT_TRUE(path_exists(upper + "/tmp/new"));
  EXPECT_FALSE(path_exists(bundle.rootfs() + "/tmp/new"));
}

TEST_F(LauncherTest, ROOT_ReadonlyRootRejectsWrites) {
  TestBundle bundle;
  ASSERT_RUN(ro, run(default_spec(bundle, {"/payload", "write", "/newfile"})));
  EXPECT_EQ(ro.out, "EROFS\n");
  auto spec = default_spec(bundle, {"/payload", "write", "/newfile"});
  spec.root.readonly = false;
  ASSERT_RUN(rw, run(spec));
  EXPECT_EQ(rw.out, "ok\n");
}

TEST_F(LauncherTest, ROOT_JoinsNetworkNamespaceByPath) {
  TestBundle bundle;
  // A network namespace of the test's own, pinned by a bind mount in its temp dir (`ip netns
  // add` would also turn /run/netns into a mount point of the host's and leave it there). It
  // is made on a thread of its own: unshare() changes the calling thread's namespace only.
  testing::TempDir dir("gantry-netns");
  std::string pin = dir.file("net");
  ASSERT_TRUE(write_file(pin, "").ok());
  int made = -1;
  std::thread([&] {
    if (::unshare(CLONE_NEWNET) == 0) {
      made = ::mount("/proc/thread-self/ns/net", pin.c_str(), nullptr, MS_BIND, nullptr);
    }
  }).join();
  ASSERT_EQ(made, 0) << std::strerror(errno);
  struct stat st{};
  ASSERT_EQ(::stat(pin.c_str(), &st), 0);
  auto spec = default_spec(bundle, {"readlink", "/proc/self/ns/net"});
  spec.namespaces[1].path = pin;
  auto r = run(spec);
  auto own = run(default_spec(bundle, {"readlink", "/proc/self/ns/net"}));
  EXPECT_EQ(::umount2(pin.c_str(), MNT_DETACH), 0);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->out, "net:[" + std::to_string(st.st_ino) + "]\n");
  ASSERT_TRUE(own.ok());
  EXPECT_NE(own->out, r->out);
}

int chown_to(const char* path, const struct stat*, int, struct FTW*) {
  return ::lchown(path, 100000, 100000) == 0 ? 0 : -1;
}

TEST_F(LauncherTest, ROOT_UserNamespaceWithMaps) {
  TestBundle bundle;
  ASSERT_EQ(::nftw(bundle.rootfs().c_str(), chown_to, 16, FTW_PHYS), 0);
  ASSERT_EQ(::chmod(bundle.dir().c_str(), 0755), 0);
  auto spec = default_spec(bundle, {"sh", "-c", "cat /proc/self/uid_map; id -u; /payload mount"});
  spec.namespaces.push_back({NamespaceType::kUser, ""});
  spec.uid_mappings = {{0, 100000, 65536}};
  spec.gid_mappings = {{0, 100000, 65536}};
  ASSERT_RUN(r, run(spec));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  // uid_map pads its columns; compare the numbers only.
  std::istringstream in(r.out);
  uint64_t inside = 1, outside = 0, size = 0;
  std::string uid, mount;
  in >> inside >> outside >> size >> uid >> mount;
  EXPECT_EQ(inside, 0u);
  EXPECT_EQ(outside, 100000u);
  EXPECT_EQ(size, 65536u);
  EXPECT_EQ(uid, "0");
  EXPECT_EQ(mount, "EPERM");
}

TEST_F(LauncherTest, ROOT_InitReaperReapsOrphanedZombie) {
  TestBundle bundle;
  // The inner shell backgrounds a child and exits: the child is re-parented to pid 1, exits,
  // and stays a zombie (its /proc entry remains) until pid 1 reaps it. The loop is a bound,
  // not a clock: a reaper that never reaps makes the test fail instead of hang.
  const char* script =
      "echo $$; p=$(sh -c 'sh -c \"exit 0\" >/dev/null 2>&1 & echo $!'); i=0; "
      "while [ -e /proc/$p ] && [ $i -lt 200000 ]; do i=$((i+1)); done; "
      "if [ -e /proc/$p ]; then echo zombie; else echo reaped; fi; exit 3";
  ASSERT_RUN(r, run(default_spec(bundle, {"sh", "-c", script}), /*init_reaper=*/true));
  EXPECT_EQ(r.out, "2\nreaped\n");
  EXPECT_EQ(r.exit_code, 3);
}

TEST_F(LauncherTest, ROOT_ReaperForwardsSignalExitStatus) {
  TestBundle bundle;
  ASSERT_RUN(r, run(default_spec(bundle, {"/payload", "kill-self", "15"}), true));
  EXPECT_EQ(r.exit_code, 128 + 15);
}

TEST_F(LauncherTest, ROOT_CreateThenStartReleasesTheProcess) {
  TestBundle bundle;
  testing::TempDir state("gantry-state");
  LaunchRequest req;
  req.spec = default_spec(bundle, {"echo", "started"});
  req.mode = LaunchRequest::Mode::kCreate;
  req.state_dir = state.path();
  int fd = -1;
  auto c = launch(std::move(req), &fd);
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_TRUE(path_exists(state.file("exec.fifo")));
  // Still waiting: no output yet, the process is alive.
  EXPECT_EQ(::waitpid(c->pid, nullptr, WNOHANG), 0);
  auto st = start_container(state.path(), c->pid);
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_FALSE(path_exists(state.file("exec.fifo")));
  RunResult r = finish(*c, fd);
  EXPECT_EQ(r.out, "started\n");
  EXPECT_EQ(r.exit_code, 0);
  auto again = start_container(state.path(), -1);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(LauncherTest, ROOT_ExecJoinsNamespacesCgroupAndUser) {
  TestBundle bundle;
  testing::TempDir state("gantry-state");
  LaunchRequest req;
  req.spec = default_spec(bundle, {"/bin/true"});
  req.mode = LaunchRequest::Mode::kCreate;
  req.state_dir = state.path();
  int init_out = -1;
  auto c = launch(std::move(req), &init_out);
  ASSERT_TRUE(c.ok()) << c.error().message();

  auto exec = [&](std::vector<std::string> args, uint32_t uid) -> std::pair<int, std::string> {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    ExecRequest er;
    er.init_pid = c->pid;
    er.process = default_spec(bundle, args).process;
    er.process.user.uid = uid;
    er.process.user.gid = uid;
    er.process.cwd = "/tmp";
    er.cgroup = c->cgroup.get();
    er.stdout_fd = p[1];
    er.stderr_fd = p[1];
    auto code = exec_in_container(er);
    ::close(p[1]);
    std::string out;
    char buf[1024];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(p[0]);
    if (!code.ok()) return {-1, code.error().message()};
    return {*code, out};
  };
  auto [code, out] = exec({"sh", "-c", "hostname; echo $$; grep pids /proc/self/cgroup"}, 0);
  EXPECT_EQ(code, 0) << out;
  // Not pid 1 (the init is), in the container's pid namespace and its cgroup (root of its
  // cgroup namespace).
  EXPECT_EQ(out.substr(0, 14), "gantry-test\n2\n") << out;
  EXPECT_NE(out.find(":pids:/\n"), std::string::npos) << out;
  auto [ids_code, ids] = exec({"/payload", "ids"}, 1000);
  EXPECT_EQ(ids_code, 0);
  EXPECT_EQ(ids, "1000 1000  /tmp\n");
  auto [exit_code, _] = exec({"/payload", "exit", "5"}, 0);
  EXPECT_EQ(exit_code, 5);
  auto [missing_code, missing] = exec({"no-such-tool"}, 0);
  EXPECT_EQ(missing_code, -1);
  EXPECT_NE(missing.find("find executable 'no-such-tool' in PATH: no such file or directory"),
            std::string::npos) << missing;

  ::kill(c->pid, SIGKILL);
  RunResult r = finish(*c, init_out);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
}

TEST_F(LauncherTest, ROOT_TerminalGoesToConsoleSocket) {
  TestBundle bundle;
  testing::TempDir dir("gantry-console");
  std::string sock_path = dir.file("console.sock");
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  LaunchRequest req;
  req.spec = default_spec(bundle, {"sh", "-c", "tty; [ -t 0 ] && echo interactive"});
  req.spec.process.terminal = true;
  req.console_socket = sock_path;
  int fd = -1;
  auto c = launch(std::move(req), &fd);
  ASSERT_TRUE(c.ok()) << c.error().message();
  int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(conn, 0);
  int master = receive_fd(conn);
  ASSERT_GE(master, 0);
  std::string tty;
  char buf[256];
  ssize_t n;
  // Reads end with EIO once the last holder of the slave side has exited.
  while ((n = ::read(master, buf, sizeof buf)) > 0) tty.append(buf, static_cast<size_t>(n));
  ::close(master);
  ::close(conn);
  ::close(listener);
  RunResult r = finish(*c, fd);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");  // everything went to the terminal
  EXPECT_EQ(tty, "/dev/pts/0\r\ninteractive\r\n");
}

TEST_F(LauncherTest, ROOT_HooksRunAtTheirPointsWithTheState) {
  TestBundle bundle;
  testing::TempDir dir("gantry-hooks");
  std::string script = dir.file("hook.sh");
  // Host side: record the kind, then the state JSON read from stdin.
  ASSERT_TRUE(write_file(script, "#!/bin/sh\necho \"$1\" >> " + dir.file("order") +
                                     "\ncat > " + dir.path() + "/$1.json\n").ok());
  ASSERT_EQ(::chmod(script.c_str(), 0755), 0);
  auto spec = default_spec(bundle, {"cat", "/hooklog/startContainer.json"});
  spec.mounts.push_back({"/hooklog", "bind", dir.path(), {"rbind"}});
  spec.hooks.prestart = {{script, {script, "prestart"}, {}, {}}};
  spec.hooks.create_runtime = {{script, {script, "createRuntime"}, {}, {}}};
  spec.hooks.create_container = {{script, {script, "createContainer"}, {}, 5}};
  // Inside the container (after pivot_root): the bundle's busybox sh.
  spec.hooks.start_container = {
      {"/bin/sh", {"sh", "-c", "cat > /hooklog/startContainer.json"}, {"PATH=/bin"}, {}}};
  LaunchRequest req;
  req.spec = spec;
  int fd = -1;
  auto c = launch(std::move(req), &fd);
  ASSERT_TRUE(c.ok()) << c.error().message();
  pid_t pid = c->pid;
  RunResult r = finish(*c, fd);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  auto order = read_file(dir.file("order"));
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(*order, "prestart\ncreateRuntime\ncreateContainer\n");
  for (const char* kind : {"prestart", "createContainer"}) {
    auto state = read_json_file(dir.path() + "/" + kind + ".json");
    ASSERT_TRUE(state.ok()) << kind;
    EXPECT_EQ((*state)["id"], id_);
    EXPECT_EQ((*state)["pid"], pid);
    EXPECT_EQ((*state)["status"], "creating");
  }
  // The container's process printed what its startContainer hook received.
  auto start_state = parse_json(r.out, "output");
  ASSERT_TRUE(start_state.ok()) << r.out;
  EXPECT_EQ((*start_state)["pid"], pid);
}

TEST_F(LauncherTest, ROOT_FailingHookFailsTheLaunchAndLeavesNothing) {
  TestBundle bundle;
  std::string before = mounts_now();
  auto spec = default_spec(bundle, {"/bin/true"});
  spec.hooks.create_container = {{"/bin/sh", {"sh", "-c", "exit 3"}, {}, {}}};
  auto r = run(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "create container '" + id_ +
                                     "': createContainer hook[0] '/bin/sh': exited with status 3");
  spec.hooks.create_container.clear();
  spec.hooks.prestart = {{"/nonexistent/hook", {}, {}, {}}};
  auto missing = run(spec);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("'/nonexistent/hook'"), std::string::npos)
      << missing.error().message();
  EXPECT_EQ(mounts_now(), before);
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_FALSE(path_exists("/sys/fs/cgroup/memory/gantry/" + id_));
}

TEST_F(LauncherTest, ROOT_MissingBindSourceNamesStepAndPathAndLeavesNothing) {
  TestBundle bundle;
  std::string before = mounts_now();
  auto spec = default_spec(bundle, {"/bin/true"});
  spec.mounts.push_back({"/data", "bind", "/nonexistent/gantry-src", {"rbind"}});
  auto r = run(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "create container '" + id_ +
                "': bind mount source '/nonexistent/gantry-src': no such file or directory");
  EXPECT_EQ(mounts_now(), before);
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD) << "a container process was left behind";
  EXPECT_FALSE(path_exists("/sys/fs/cgroup/memory/gantry/" + id_));
  EXPECT_FALSE(path_exists("/sys/fs/cgroup/pids/gantry/" + id_));
}

TEST_F(LauncherTest, ROOT_MissingExecutableIsAnErrorNamingIt) {
  TestBundle bundle;
  auto r = run(default_spec(bundle, {"no-such-program"}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("find executable 'no-such-program' in PATH"),
            std::string::npos) << r.error().message();
  EXPECT_FALSE(path_exists("/sys/fs/cgroup/memory/gantry/" + id_));
}

}  // namespace
}  // namespace gantry::runtime
