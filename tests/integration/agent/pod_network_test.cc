// Pod networks: a namespace pinned under the state root, joined by two containers that talk
// over an alias in /etc/hosts; create/destroy leave no mount or file behind.
#include "agent/network.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "agent/container_manager.h"
#include "common/file.h"
#include "runtime/image/import.h"
#include "tests/support/bundle.h"
#include "tests/support/busybox_image.h"
#include "tests/support/temp_dir.h"

namespace gantry::agent {
namespace {

using testing::TempDir;
using testing::TestBundle;

std::string mountinfo() {
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class PodNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    root_ = dir_.file("state");
    ASSERT_TRUE(make_dirs(root_).ok());
  }
  TempDir dir_;
  std::string root_;
};

TEST_F(PodNetworkTest, NETNS_CreateGivesALoopbackNamespaceAndDestroyRemovesIt) {
  auto pod = create_pod_network(root_, "job-1");
  ASSERT_TRUE(pod.ok()) << pod.error().message();
  EXPECT_EQ(pod->address, "127.0.0.1");
  struct stat own, pinned;
  ASSERT_EQ(::stat("/proc/self/ns/net", &own), 0);
  ASSERT_EQ(::stat(pod->netns_path.c_str(), &pinned), 0);
  EXPECT_NE(own.st_ino, pinned.st_ino) << "the pod has its own namespace";
  auto again = create_pod_network(root_, "job-1");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(mountinfo().find(pod->netns_path), std::string::npos);
  ASSERT_TRUE(destroy_pod_network(root_, "job-1").ok());
  EXPECT_EQ(mountinfo().find(pod->netns_path), std::string::npos);
  EXPECT_FALSE(path_exists(pod->netns_path));
  EXPECT_TRUE(destroy_pod_network(root_, "job-1").ok()) << "destroy is idempotent";
  EXPECT_FALSE(create_pod_network(root_, "../x").ok());
}

TEST_F(PodNetworkTest, NETNS_TwoContainersInOnePodTalkOverAnAlias) {
  if (!testing::have_static_busybox()) GTEST_SKIP() << "needs busybox-static";
  TestBundle bundle;
  ASSERT_NO_FATAL_FAILURE(testing::import_busybox_image(root_, bundle.rootfs(), "localhost/bb:1"));
  std::unique_ptr<ContainerManager> m;
  ASSERT_NO_FATAL_FAILURE(
      testing::open_test_container_manager(root_, std::chrono::milliseconds(0), m));
  auto pod = create_pod_network(root_, "pod");
  ASSERT_TRUE(pod.ok()) << pod.error().message();

  ContainerConfig server;
  server.image = "localhost/bb:1";
  server.pull_policy = PullPolicy::kNever;
  // The greeting is in a file before nc listens: from a pipe, nc may see the client's EOF before
  // echo has written and close without sending anything.
  server.run.cmd = {"/bin/sh", "-c",
                    "echo hello from the service >/greeting && nc -l -p 8080 </greeting"};
  server.network = {ContainerNetwork::Mode::kJoin, pod->netns_path, pod->address};
  auto sid = m->create(server);
  ASSERT_TRUE(sid.ok()) << sid.error().message();
  ASSERT_TRUE(m->start(*sid, {}).ok());

  ContainerConfig client = server;
  // Retries until the service listens: the run's deadline bounds it, not a sleep.
  client.run.cmd = {"/bin/sh", "-c", "until nc db 8080; do :; done"};
  client.extra_hosts = {{pod->address, {"db"}}};
  auto cid = m->create(client);
  ASSERT_TRUE(cid.ok()) << cid.error().message();
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ContainerIo io;
  io.output_fd = p[1];
  auto exit = m->run(*cid, io, std::chrono::steady_clock::now() + std::chrono::seconds(60));
  ::close(p[1]);
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  ASSERT_TRUE(exit.ok()) << exit.error().message();
  EXPECT_FALSE(exit->timed_out);
  EXPECT_EQ(exit->exit_code, 0);
  EXPECT_NE(out.find("hello from the service"), std::string::npos) << out;

  auto server_exit = m->stop(*sid, std::chrono::milliseconds(0));
  ASSERT_TRUE(server_exit.ok()) << server_exit.error().message();
  EXPECT_TRUE(m->remove(*sid).ok());
  EXPECT_TRUE(m->remove(*cid).ok());
  EXPECT_TRUE(destroy_pod_network(root_, "pod").ok());
  EXPECT_EQ(mountinfo().find(root_), std::string::npos);
}

}  // namespace
}  // namespace gantry::agent
