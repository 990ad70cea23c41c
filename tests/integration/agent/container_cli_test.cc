// `gantry container run|ls|rm` through the binary, as a user runs it: a busybox image with
// its own Env/Entrypoint/Cmd/WorkingDir/User in a TempDir state root; exit codes, volumes,
// limits, timeouts, signals, --rm, and a dead registry. Every test checks nothing is left.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/file.h"
#include "common/json.h"
#include "common/subprocess.h"
#include "runtime/image/image_store.h"
#include "tests/support/bundle.h"
#include "tests/support/layer_tar.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_image.h"

namespace gantry {
namespace {

using testing::LayerTar;
using testing::TempDir;

constexpr const char* kImage = "localhost/bb:1";

LayerTar busybox_layer() {
  LayerTar t;
  auto bb = read_file(testing::kStaticBusybox);
  t.dir("bin").file("bin/busybox", bb.ok() ? *bb : std::string(), 0755);
  for (const char* applet : {"sh", "echo", "cat", "id", "pwd", "sleep", "dd", "touch", "ls",
                             "hostname", "true"}) {
    t.symlink(std::string("bin/") + applet, "busybox");
  }
  t.dir("etc")
      .file("etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nbuilder:x:1000:1000::/home/builder:/bin/sh\n")
      .file("etc/group", "root:x:0:\nbuilder:x:1000:\n");
  t.dir("srv", 0777).dir("tmp", 01777).dir("proc").dir("sys").dir("dev");
  return t;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ContainerCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!testing::have_static_busybox()) GTEST_SKIP() << "needs busybox-static";
    root_ = dir_.file("state");
    auto store = runtime::image::ImageStore::open(root_);
    ASSERT_TRUE(store.ok()) << store.error().message();
    testing::TestImageOptions o;
    o.platform = runtime::image::host_platform().str();
    o.config = {{"Env", {"PATH=/bin", "GREETING=hello"}},
                {"Entrypoint", {"/bin/sh", "-c"}},
                {"Cmd", {"echo $GREETING from $(pwd) as $(id -un)"}},
                {"WorkingDir", "/srv"},
                {"User", "builder"}};
    auto lease = (*store)->content().lease();
    ASSERT_TRUE(lease.ok());
    std::string digest = testing::store_test_image((*store)->content(), {busybox_layer()}, o);
    auto rec = (*store)->commit_image(kImage, digest, runtime::image::host_platform());
    ASSERT_TRUE(rec.ok()) << rec.error().message();
  }

  void TearDown() override {
    if (root_.empty() || !is_directory(root_ + "/bundles")) return;
    // Nothing may be left by a test that used --rm; others clean up here.
    auto ls = gantry({"container", "ls", "--json"});
    auto all = parse_json(ls.out, "ls");
    if (all.ok()) {
      for (const auto& c : *all) gantry({"container", "rm", "-f", c["id"].get<std::string>()});
    }
  }

  SubprocessResult gantry(std::vector<std::string> args) {
    args.insert(args.begin(), {GANTRY_BIN, "--root", root_});
    auto r = run_subprocess(args);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : SubprocessResult{};
  }
  SubprocessResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {"container", "run"});
    return gantry(std::move(args));
  }

  // Nothing of any container is left: no bundle, no runtime state, no mount under the root,
  // no cgroup named after `id`.
  void expect_nothing_left(const std::string& id) {
    auto bundles = list_dir(root_ + "/bundles");
    ASSERT_TRUE(bundles.ok());
    // The manager's lock stays; a bundle, or one still being removed (".removing-<id>"), not.
    for (const auto& b : *bundles) EXPECT_EQ(b, ".lock") << "bundle left: " << b;
    auto states = list_dir(root_ + "/containers");
    if (states.ok()) {
      // The seccomp cache (".seccomp-cache") stays; containers are the non-dot entries.
      std::erase_if(*states, [](const std::string& e) { return e.starts_with("."); });
      EXPECT_TRUE(states->empty()) << "runtime state left";
    }
    EXPECT_EQ(read_all("/proc/self/mountinfo").find(root_), std::string::npos);
    // Without an id these would test the shared "gantry" parent, which another test's running
    // container keeps (ctest -j); the suite's host leak check covers that case.
    if (id.empty()) return;
    EXPECT_FALSE(path_exists("/sys/fs/cgroup/gantry/" + id));
    EXPECT_FALSE(path_exists("/sys/fs/cgroup/memory/gantry/" + id));
    EXPECT_FALSE(path_exists("/sys/fs/cgroup/pids/gantry/" + id));
  }

  TempDir dir_;
  std::string root_;
};

TEST_F(ContainerCliTest, ROOT_ImageConfigGivesEnvEntrypointWorkdirAndUser) {
  auto r = run({"--rm", kImage});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello from /srv as builder\n");
  // The command replaces Cmd only; the entrypoint stays. -e, -w and -u override the image.
  r = run({"--rm", "-e", "GREETING=bye", "-w", "/tmp", "-u", "root", kImage,
           "echo $GREETING from $(pwd) as $(id -un)"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "bye from /tmp as root\n");
  r = run({"--rm", "--entrypoint", "/bin/echo", kImage, "plain", "args"});
  EXPECT_EQ(r.out, "plain args\n") << r.err;
  expect_nothing_left("");
}

TEST_F(ContainerCliTest, ROOT_ExitCodePassesThroughAndRmLeavesNothing) {
  auto r = run({"--rm", kImage, "hostname; exit 7"});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  std::string id = r.out.substr(0, r.out.find('\n'));
  EXPECT_EQ(id.size(), 12u) << r.out;
  expect_nothing_left(id);
}

TEST_F(ContainerCliTest, ROOT_VolumesReadWriteAndReadOnly) {
  std::string rw = dir_.file("rw"), ro = dir_.file("ro");
  ASSERT_TRUE(make_dirs(rw).ok());
  ASSERT_TRUE(make_dirs(ro).ok());
  ASSERT_TRUE(write_file(ro + "/in", "from host\n").ok());
  auto r = run({"--rm", "-u", "root", "-v", rw + ":/out", "-v", ro + ":/in:ro", kImage,
                "cat /in/in > /out/copy && touch /in/nope"});
  EXPECT_NE(r.exit_code, 0) << "a read-only volume took a write";
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(read_all(rw + "/copy"), "from host\n");
  EXPECT_FALSE(path_exists(ro + "/nope"));
  expect_nothing_left("");
}

TEST_F(ContainerCliTest, ROOT_MemoryLimitOomIsReported) {
  auto r = run({"--rm", "--memory", "16m", kImage, "dd if=/dev/zero of=/dev/null bs=128M count=1"});
  EXPECT_EQ(r.exit_code, 137) << r.out << r.err;
  EXPECT_NE(r.err.find("OOM killer"), std::string::npos) << r.err;
  expect_nothing_left("");
}

TEST_F(ContainerCliTest, ROOT_TimeoutStopsASleepWith124) {
  auto r = run({"--rm", "--timeout", "1", "--stop-timeout", "1", kImage, "exec sleep 1000"});
  EXPECT_EQ(r.exit_code, 124) << r.out << r.err;
  EXPECT_NE(r.err.find("timed out after 1s"), std::string::npos) << r.err;
  expect_nothing_left("");
}

TEST_F(ContainerCliTest, ROOT_SigintStopsTheContainerAndRmStillCleansUp) {
  // The container's stdout is a pipe: its first line says it runs; EOF says gantry is gone.
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(p[1], 1);
    ::execl(GANTRY_BIN, GANTRY_BIN, "--root", root_.c_str(), "container", "run", "--rm",
            "--stop-timeout", "1", kImage, "echo up; exec sleep 1000", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(p[1]);
  std::string line;
  char c;
  while (::read(p[0], &c, 1) == 1 && c != '\n') line += c;
  EXPECT_EQ(line, "up");
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(p[0]);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGKILL) << "sleep as pid 1 ignores SIGTERM";
  expect_nothing_left("");
}

TEST_F(ContainerCliTest, ROOT_LsShowsNameAndStatusAndRmRemoves) {
  auto r = run({"--name", "keep", kImage, "exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  auto ls = gantry({"container", "ls"});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  // A header and one row, in aligned columns, the row's age in words.
  auto nl = ls.out.find('\n');
  ASSERT_NE(nl, std::string::npos) << ls.out;
  std::string header = ls.out.substr(0, nl), row = ls.out.substr(nl + 1);
  EXPECT_TRUE(header.starts_with("CONTAINER ID   IMAGE")) << ls.out;
  EXPECT_EQ(row.find("exited (3)"), header.find("STATUS")) << ls.out;
  EXPECT_EQ(row.find("keep"), header.find("NAME")) << ls.out;
  EXPECT_NE(row.find(" ago "), std::string::npos) << ls.out;
  auto json = parse_json(gantry({"container", "ls", "--json"}).out, "ls");
  ASSERT_TRUE(json.ok());
  ASSERT_EQ(json->size(), 1u);
  EXPECT_EQ((*json)[0]["name"], "keep");
  EXPECT_EQ((*json)[0]["exit"]["exit_code"], 3);
  auto rm = gantry({"container", "rm", "keep"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  rm = gantry({"container", "rm", "keep"});
  EXPECT_NE(rm.exit_code, 0);
  EXPECT_NE(rm.err.find("no such container 'keep'"), std::string::npos) << rm.err;
  expect_nothing_left("");
}

TEST_F(ContainerCliTest, ROOT_MissingImageOnDeadRegistryIsAClearError) {
  auto r = run({"--rm", "127.0.0.1:1/nothing/here:1", "true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("127.0.0.1:1/nothing/here:1"), std::string::npos) << r.err;
  r = run({"--rm", "--pull", "never", "localhost/absent:1"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("pull policy is 'never'"), std::string::npos) << r.err;
  r = run({"--rm", "--memory", "lots", kImage});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("lots"), std::string::npos) << r.err;
  expect_nothing_left("");
}

}  // namespace
}  // namespace gantry
