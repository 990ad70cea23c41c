// ContainerManager against the real runtime: a busybox image imported into a TempDir state
// root, containers created from it, run through `gantry runtime run`, stopped, removed.
// Each test checks what it made is gone afterwards (bundle, runtime state).
#include "agent/container_manager.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <optional>
#include <thread>

#include "agent/oci_container_manager.h"
#include "common/file.h"
#include "common/kernel_version.h"
#include "runtime/image/import.h"
#include "tests/support/bundle.h"
#include "tests/support/busybox_image.h"
#include "tests/support/temp_dir.h"

namespace gantry::agent {
namespace {

using testing::TempDir;
using testing::TestBundle;

// Reads everything from `fd` until EOF, in a thread, so a chatty container never blocks.
class Drain {
 public:
  explicit Drain(int fd) : fd_(fd), thread_([this] {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd_, buf, sizeof buf)) > 0) text_.append(buf, static_cast<size_t>(n));
      ::close(fd_);
    }) {}
  std::string text() {
    if (thread_.joinable()) thread_.join();
    return text_;
  }
  ~Drain() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  int fd_;
  std::string text_;
  std::thread thread_;
};

class ContainerManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!testing::have_static_busybox()) GTEST_SKIP() << "needs busybox-static";
    root_ = dir_.file("state");
    runtime::image::ImportOptions o;
    o.env = {"PATH=/bin", "FROM_IMAGE=yes"};
    o.cmd = {"/bin/sh", "-c", "echo default"};
    o.working_dir = "/tmp";
    ASSERT_NO_FATAL_FAILURE(
        testing::import_busybox_image(root_, bundle_.rootfs(), "localhost/busybox:1", o));
    ASSERT_NO_FATAL_FAILURE(
        testing::open_test_container_manager(root_, std::chrono::milliseconds(500), manager_));
  }

  void TearDown() override {
    if (!manager_) return;
    auto all = manager_->list();
    ASSERT_TRUE(all.ok());
    for (const auto& c : *all) EXPECT_TRUE(manager_->remove(c.id).ok());
  }

  ContainerConfig config(std::vector<std::string> cmd) {
    ContainerConfig c;
    c.image = "localhost/busybox:1";
    c.pull_policy = PullPolicy::kNever;
    c.run.cmd = std::move(cmd);
    return c;
  }

  // Runs `c` to its end; returns the exit and the combined output.
  std::pair<ContainerExit, std::string> run(const ContainerConfig& c,
                                            std::optional<std::chrono::steady_clock::time_point>
                                                deadline = std::nullopt,
                                            std::stop_token stop = {}) {
    auto id = manager_->create(c);
    EXPECT_TRUE(id.ok()) << id.error().message();
    if (!id.ok()) return {};
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    Drain drain(p[0]);
    ContainerIo io;
    io.output_fd = p[1];
    auto exit = manager_->run(*id, io, deadline, stop);
    ::close(p[1]);
    std::string out = drain.text();
    EXPECT_TRUE(exit.ok()) << exit.error().message() << "\n" << out;
    last_id_ = *id;
    return {exit.ok() ? *exit : ContainerExit{}, out};
  }

  TempDir dir_;
  TestBundle bundle_;
  std::string root_;
  std::unique_ptr<ContainerManager> manager_;
  std::string last_id_;
};

TEST_F(ContainerManagerTest, ROOT_RunsImageCommandWithItsConfigAndOneOrderedOutput) {
  auto [exit, out] = run(config({"/bin/sh", "-c",
                                 "echo out; echo err >&2; echo $FROM_IMAGE; pwd; exit 7"}));
  EXPECT_EQ(exit.exit_code, 7);
  EXPECT_EQ(exit.signal, 0);
  EXPECT_FALSE(exit.timed_out);
  EXPECT_EQ(out, "out\nerr\nyes\n/tmp\n");
  auto info = manager_->inspect(last_id_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, "exited");
  ASSERT_TRUE(info->exit.has_value());
  EXPECT_EQ(info->exit->exit_code, 7);
  // The runtime's state is gone once run() returns; the bundle stays until remove().
  EXPECT_FALSE(path_exists(root_ + "/containers/" + last_id_));
  EXPECT_TRUE(path_exists(root_ + "/bundles/" + last_id_));
  ASSERT_TRUE(manager_->remove(last_id_).ok());
  EXPECT_FALSE(path_exists(root_ + "/bundles/" + last_id_));
  EXPECT_TRUE(manager_->remove(last_id_).ok()) << "remove is idempotent";
}

// A container's upper dir lives as long as the container: the overlay is volatile (no sync of
// the disk under it at exit). remove() frees the name at once and deletes the files in the
// background; the manager finishes them before it goes, and a new one sweeps up what a crash
// left.
TEST_F(ContainerManagerTest, ROOT_VolatileRootAndBundlesRemovedInTheBackground) {
  auto [exit, out] = run(config({"/bin/sh", "-c",
                                 "mkdir -p /made/deep && echo data >/made/deep/file && "
                                 "head -1 /proc/self/mountinfo"}));
  EXPECT_EQ(exit.exit_code, 0) << out;
  if (running_kernel().at_least(5, 10)) {
    EXPECT_NE(out.find("volatile"), std::string::npos) << out;
  }
  std::string upper_file = root_ + "/bundles/" + last_id_ + "/upper/made/deep/file";
  EXPECT_TRUE(path_exists(upper_file));
  ASSERT_TRUE(manager_->remove(last_id_).ok());
  EXPECT_FALSE(path_exists(root_ + "/bundles/" + last_id_)) << "the name is free at once";

  // What a crash mid-removal leaves.
  std::string left = root_ + "/bundles/.removing-0123456789ab";
  ASSERT_TRUE(make_dirs(left + "/upper/x").ok());
  ASSERT_TRUE(write_file(left + "/container.json", "{}").ok());
  manager_.reset();  // finishes the removal it queued
  ASSERT_NO_FATAL_FAILURE(
      testing::open_test_container_manager(root_, std::chrono::milliseconds(500), manager_));
  manager_.reset();  // the new one swept the leftover
  auto entries = list_dir(root_ + "/bundles");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(*entries, std::vector<std::string>{".lock"});
}

TEST_F(ContainerManagerTest, ROOT_HostsHostnameAndExtraEntries) {
  auto c = config({"/bin/sh", "-c", "hostname; cat /etc/hosts"});
  c.name = "web";
  c.extra_hosts = {{"10.1.2.3", {"db", "postgres"}}};
  auto [exit, out] = run(c);
  EXPECT_EQ(exit.exit_code, 0) << out;
  EXPECT_TRUE(out.starts_with("web\n")) << out;
  EXPECT_NE(out.find("10.1.2.3\tdb postgres\n"), std::string::npos) << out;
}

TEST_F(ContainerManagerTest, ROOT_DeadlineStopsAContainerThatIgnoresSigterm) {
  auto [exit, out] = run(config({"/bin/sleep", "1000"}), std::chrono::steady_clock::now());
  EXPECT_TRUE(exit.timed_out);
  EXPECT_EQ(exit.signal, SIGKILL);
  EXPECT_EQ(exit.exit_code, 128 + SIGKILL);
  EXPECT_FALSE(path_exists(root_ + "/containers/" + last_id_));
}

TEST_F(ContainerManagerTest, ROOT_StopTokenCancelsARunningContainer) {
  std::stop_source stop;
  stop.request_stop();
  auto [exit, out] = run(config({"/bin/sh", "-c", "trap 'exit 3' TERM; while :; do sleep 1; done"}),
                         std::nullopt, stop.get_token());
  EXPECT_TRUE(exit.canceled);
  EXPECT_FALSE(exit.timed_out);
}

TEST_F(ContainerManagerTest, ROOT_StartedContainerIsStoppedAndWaitGivesTheSameExit) {
  auto id = manager_->create(config({"/bin/sleep", "1000"}));
  ASSERT_TRUE(id.ok()) << id.error().message();
  ASSERT_TRUE(manager_->start(*id, {}).ok());
  auto stopped = manager_->stop(*id, std::chrono::milliseconds(0));
  ASSERT_TRUE(stopped.ok()) << stopped.error().message();
  EXPECT_TRUE(stopped->canceled);
  auto waited = manager_->wait(*id);
  ASSERT_TRUE(waited.ok()) << waited.error().message();
  EXPECT_EQ(waited->exit_code, stopped->exit_code);
  EXPECT_FALSE(path_exists(root_ + "/containers/" + *id));
}

TEST_F(ContainerManagerTest, ROOT_StopDuringAnotherThreadsWaitGivesTheGrace) {
  // The container leaves on SIGTERM with 3; without the grace it would be SIGKILLed at once.
  auto id = manager_->create(config(
      {"/bin/sh", "-c", "trap 'exit 3' TERM; echo ready; while :; do sleep 0.1; done"}));
  ASSERT_TRUE(id.ok()) << id.error().message();
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ContainerIo io;
  io.output_fd = p[1];
  ASSERT_TRUE(manager_->start(*id, io).ok());
  ::close(p[1]);
  std::optional<Result<ContainerExit>> waited;
  std::thread waiter([&] { waited = manager_->wait(*id); });
  std::string seen;
  char buf[256];
  while (seen.find("ready\n") == std::string::npos) {
    ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(seen, "ready\n");
  auto stopped = manager_->stop(*id, std::chrono::seconds(60));
  waiter.join();
  ::close(p[0]);
  ASSERT_TRUE(stopped.ok()) << stopped.error().message();
  EXPECT_TRUE(stopped->canceled);
  EXPECT_EQ(stopped->exit_code, 3) << "the container got SIGKILL instead of SIGTERM and its grace";
  ASSERT_TRUE(waited.has_value() && waited->ok());
  EXPECT_EQ((*waited)->exit_code, 3);
}

TEST_F(ContainerManagerTest, ROOT_NamesAreUniqueAndResolve) {
  auto c = config({"/bin/true"});
  c.name = "only";
  auto a = manager_->create(c);
  ASSERT_TRUE(a.ok()) << a.error().message();
  auto b = manager_->create(c);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code(), ErrorCode::kAlreadyExists);
  auto info = manager_->inspect("only");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->id, *a);
  EXPECT_EQ(info->status, "created");
  EXPECT_TRUE(manager_->remove("only").ok());
  EXPECT_EQ(manager_->remove("only").error().code(), ErrorCode::kNotFound);
}

TEST_F(ContainerManagerTest, ROOT_PruneKeepsTheLayersOfExistingContainers) {
  auto id = manager_->create(config({"/bin/sh", "-c", "echo still here"}));
  ASSERT_TRUE(id.ok()) << id.error().message();
  auto store = runtime::image::ImageStore::open(root_);
  ASSERT_TRUE(store.ok());
  auto record = (*store)->remove("localhost/busybox:1");
  ASSERT_TRUE(record.ok()) << record.error().message();
  auto in_use = [this] { return OciContainerManager::snapshots_in_use(root_); };
  auto report = (*store)->prune(in_use);
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_TRUE(report->removed_snapshots.empty());
  EXPECT_FALSE(report->removed_blobs.empty());  // the untagged image's blobs go

  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  Drain drain(p[0]);
  ContainerIo io;
  io.output_fd = p[1];
  auto exit = manager_->run(*id, io, std::nullopt, {});
  ::close(p[1]);
  ASSERT_TRUE(exit.ok()) << exit.error().message();
  EXPECT_EQ(exit->exit_code, 0);
  EXPECT_EQ(drain.text(), "still here\n");

  ASSERT_TRUE(manager_->remove(*id).ok());
  report = (*store)->prune(in_use);
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report->removed_snapshots, record->chain_ids);
}

TEST_F(ContainerManagerTest, ROOT_BadInputLeavesNothing) {
  auto c = config({"/bin/true"});
  c.run.volumes = {{dir_.file("missing"), "/data", false}};
  auto id = manager_->create(c);
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.error().message().find("missing"), std::string::npos) << id.error().message();
  c = config({"/bin/true"});
  c.run.user = "nosuchuser";
  id = manager_->create(c);
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.error().message().find("nosuchuser"), std::string::npos) << id.error().message();
  c = config({"/bin/true"});
  c.image = "localhost/absent:1";
  id = manager_->create(c);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), ErrorCode::kNotFound);
  auto all = manager_->list();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

}  // namespace
}  // namespace gantry::agent
