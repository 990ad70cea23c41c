// Bridge networks for real: pods on a bridge of the test's own (own name, subnet and nft table)
// reach each other by address and the host at the gateway; traffic to an "outside" namespace the
// test wires to the host leaves masqueraded as the host's address; concurrent pods get distinct
// addresses; a crashed pod's address is reclaimed; prune removes bridge, table and records.
#include "agent/bridge_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <set>
#include <thread>

#include "agent/container_manager.h"
#include "agent/network.h"
#include "common/file.h"
#include "common/json.h"
#include "common/subprocess.h"
#include "common/unique_fd.h"
#include "runtime/image/import.h"
#include "runtime/network/netlink.h"
#include "tests/support/bundle.h"
#include "tests/support/busybox_image.h"
#include "tests/support/temp_dir.h"

namespace gantry::agent {
namespace {

namespace nl = runtime::netlink;
using testing::TempDir;
using testing::TestBundle;

// Runs `f` on a thread that has joined the network namespace at `netns_path`.
void in_netns(const std::string& netns_path, const std::function<void()>& f) {
  std::thread t([&] {
    UniqueFd ns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(ns.valid()) << netns_path;
    ASSERT_EQ(::setns(ns.get(), CLONE_NEWNET), 0) << std::strerror(errno);
    f();
  });
  t.join();
}

// A TCP server for one connection: reads a line, answers "pong", remembers the peer's address.
// The listening socket lives in the namespace it was made in (`netns_path`, or the test's).
class OneShotServer {
 public:
  OneShotServer(const std::string& address, const std::string& netns_path = "") {
    auto make = [&] {
      fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      ::inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
      ASSERT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0)
          << address << ": " << std::strerror(errno);
      ASSERT_EQ(::listen(fd_.get(), 4), 0);
      socklen_t len = sizeof sa;
      ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&sa), &len);
      port_ = ntohs(sa.sin_port);
    };
    if (netns_path.empty()) {
      make();
    } else {
      in_netns(netns_path, make);
    }
    thread_ = std::thread([this] {
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      UniqueFd c(::accept4(fd_.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
      if (!c) return;  // stop() shut the listener down: nobody came
      char text[INET_ADDRSTRLEN];
      peer_ = ::inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
      char ch;
      while (::read(c.get(), &ch, 1) == 1 && ch != '\n') received_ += ch;
      (void)!::write(c.get(), "pong\n", 5);
    });
  }
  ~OneShotServer() { stop(); }
  // Ends the wait for a connection (if none came) and joins.
  void stop() {
    if (!thread_.joinable()) return;
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
  }
  int port() const { return port_; }
  const std::string& peer() const { return peer_; }
  const std::string& received() const { return received_; }

 private:
  UniqueFd fd_;
  int port_ = 0;
  std::thread thread_;
  std::string peer_, received_;
};

struct Ran {
  bool ok = false;
  int exit_code = -1;
  std::string out;
};

class BridgeNetworkTest : public ::testing::Test {
 protected:
  // CTest runs each test in a process of its own, several at once. The host's ip_forward is
  // saved and restored around this suite, so the suites take turns: otherwise one process's
  // restore turns forwarding off under another's bridge.
  static void SetUpTestSuite() {
    suite_lock_.reset(::open("/tmp/gantry-bridge-network-test.lock",
                             O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (suite_lock_) ::flock(suite_lock_.get(), LOCK_EX);
    auto fwd = read_file("/proc/sys/net/ipv4/ip_forward");
    saved_ip_forward_ = fwd.ok() ? *fwd : "";
  }
  // The bridge turned forwarding on; the host had it the way it was before the suite.
  static void TearDownTestSuite() {
    if (!saved_ip_forward_.empty()) {
      (void)write_file("/proc/sys/net/ipv4/ip_forward", saved_ip_forward_);
    }
    suite_lock_.reset();
  }

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto nft = run_subprocess({"nft", "--version"});
    if (!nft.ok() || nft->exit_code != 0) GTEST_SKIP() << "needs the nft program (nftables)";
    root_ = dir_.file("state");
    ASSERT_TRUE(make_dirs(root_).ok());
    // Our own bridge, subnet and table, distinct per test process.
    int n = static_cast<int>(::getpid() % 200) + 20;
    tag_ = std::to_string(::getpid() % 100000);
    config_.name = "gantryt" + tag_;
    config_.nft_table = "gantryt" + tag_;
    config_.subnet = "10.213." + std::to_string(n) + ".0/24";
    outside_prefix_ = "10.214." + std::to_string(n) + ".";
    options_.mode = PodNetworkMode::kBridge;
    options_.bridge = config_;
  }

  void TearDown() override {
    if (root_.empty()) return;
    for (const auto& id : pods_) EXPECT_TRUE(destroy_pod_network(root_, id).ok()) << id;
    auto pruned = prune_bridge_networks(root_);
    EXPECT_TRUE(pruned.ok()) << pruned.error().message();
    auto sock = nl::RouteSocket::open();
    ASSERT_TRUE(sock.ok());
    EXPECT_FALSE(sock->link(config_.name).ok()) << "prune removed the bridge";
    auto table = run_subprocess({"nft", "list", "table", "ip", config_.nft_table});
    ASSERT_TRUE(table.ok());
    EXPECT_NE(table->exit_code, 0) << "prune removed the nft table";
  }

  Result<PodNetwork> pod(const std::string& id) {
    auto p = create_pod_network(root_, id, options_);
    if (p.ok()) pods_.push_back(id);
    return p;
  }

  void import_busybox() {
    ASSERT_NO_FATAL_FAILURE(
        testing::import_busybox_image(root_, bundle_.rootfs(), "localhost/bb:1"));
    ASSERT_NO_FATAL_FAILURE(
        testing::open_test_container_manager(root_, std::chrono::milliseconds(0), manager_));
  }

  ContainerConfig config_in(const PodNetwork& p, std::vector<std::string> cmd) {
    ContainerConfig c;
    c.image = "localhost/bb:1";
    c.pull_policy = PullPolicy::kNever;
    c.run.cmd = std::move(cmd);
    c.network = {ContainerNetwork::Mode::kJoin, p.netns_path, p.address};
    return c;
  }

  // Runs `cmd` in a container of pod `p` to its end (bounded by a 60 s deadline).
  Ran run_in(const PodNetwork& p, std::vector<std::string> cmd) {
    Ran r;
    auto id = manager_->create(config_in(p, std::move(cmd)));
    EXPECT_TRUE(id.ok()) << id.error().message();
    if (!id.ok()) return r;
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    ContainerIo io;
    io.output_fd = fds[1];
    auto exit = manager_->run(*id, io, std::chrono::steady_clock::now() + std::chrono::seconds(60));
    ::close(fds[1]);
    char buf[512];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    EXPECT_TRUE(manager_->remove(*id).ok());
    if (exit.ok()) {
      r.ok = !exit->timed_out;
      r.exit_code = exit->exit_code;
    } else {
      r.out += exit.error().message();
    }
    return r;
  }

  static inline UniqueFd suite_lock_;
  static inline std::string saved_ip_forward_;
  TempDir dir_;
  std::string root_, tag_, outside_prefix_;
  BridgeConfig config_;
  PodNetworkOptions options_;
  std::vector<std::string> pods_;
  TestBundle bundle_;
  std::unique_ptr<ContainerManager> manager_;
};

TEST_F(BridgeNetworkTest, NETNS_PodGetsAnAddressOnTheBridgeAndDestroyTakesItBack) {
  auto a = pod("a");
  ASSERT_TRUE(a.ok()) << a.error().message();
  auto subnet = Ipv4Subnet::parse(config_.subnet).value();
  EXPECT_TRUE(subnet.contains(parse_ipv4(a->address).value())) << a->address;
  EXPECT_EQ(a->gateway, format_ipv4(subnet.gateway()));
  EXPECT_EQ(a->bridge, config_.name);

  auto host = nl::RouteSocket::open();
  ASSERT_TRUE(host.ok());
  auto bridge = host->link(config_.name);
  ASSERT_TRUE(bridge.ok()) << bridge.error().message();
  EXPECT_EQ(bridge->kind, "bridge");
  EXPECT_TRUE(bridge->up);
  auto nets = list_bridge_networks(root_);
  ASSERT_TRUE(nets.ok()) << nets.error().message();
  ASSERT_EQ(nets->size(), 1u);
  ASSERT_EQ((*nets)[0].allocations.size(), 1u);
  std::string veth = (*nets)[0].allocations[0].veth;
  auto host_end = host->link(veth);
  ASSERT_TRUE(host_end.ok()) << host_end.error().message();
  EXPECT_EQ(host_end->master, bridge->index) << "the host end is on the bridge";
  // Inside: eth0 up with the address.
  in_netns(a->netns_path, [&] {
    auto inside = nl::RouteSocket::open();
    ASSERT_TRUE(inside.ok());
    auto eth0 = inside->link("eth0");
    ASSERT_TRUE(eth0.ok()) << eth0.error().message();
    EXPECT_TRUE(eth0->up);
  });
  auto table = run_subprocess({"nft", "list", "table", "ip", config_.nft_table});
  ASSERT_TRUE(table.ok());
  EXPECT_NE(table->out.find("masquerade"), std::string::npos) << table->out;
  EXPECT_EQ(read_file("/proc/sys/net/ipv4/ip_forward").value_or(""), "1\n");

  ASSERT_TRUE(destroy_pod_network(root_, "a").ok());
  pods_.clear();
  EXPECT_FALSE(host->link(veth).ok()) << "the veth went with the pod";
  EXPECT_TRUE(list_bridge_networks(root_)->at(0).allocations.empty());
  EXPECT_TRUE(host->link(config_.name).ok()) << "the bridge stays until pruned";
}

TEST_F(BridgeNetworkTest, NETNS_TwoPodsReachEachOtherAndTheHostAtTheGateway) {
  if (!testing::have_static_busybox()) GTEST_SKIP() << "needs busybox-static";
  import_busybox();
  ASSERT_TRUE(manager_);
  auto a = pod("a");
  ASSERT_TRUE(a.ok()) << a.error().message();
  auto b = pod("b");
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_NE(a->address, b->address);

  // A server in pod a, a client in pod b: by address, across the bridge.
  // The greeting is in a file before nc listens (see pod_network_test.cc).
  auto sid = manager_->create(config_in(
      *a, {"/bin/sh", "-c", "echo hello from pod a >/greeting && nc -l -p 8080 </greeting"}));
  ASSERT_TRUE(sid.ok()) << sid.error().message();
  ASSERT_TRUE(manager_->start(*sid, {}).ok());
  // Retries until the server listens: the run's deadline bounds it, not a sleep.
  Ran client = run_in(*b, {"/bin/sh", "-c", "until nc " + a->address + " 8080; do :; done"});
  EXPECT_TRUE(manager_->stop(*sid, std::chrono::milliseconds(0)).ok());
  EXPECT_TRUE(manager_->remove(*sid).ok());
  EXPECT_TRUE(client.ok) << client.out;
  EXPECT_NE(client.out.find("hello from pod a"), std::string::npos) << client.out;

  // The host, at the gateway address.
  OneShotServer host_server(a->gateway);
  Ran to_host = run_in(*b, {"/bin/sh", "-c",
                            "echo ping | nc " + a->gateway + " " +
                                std::to_string(host_server.port())});
  host_server.stop();
  EXPECT_EQ(to_host.exit_code, 0) << to_host.out;
  EXPECT_NE(to_host.out.find("pong"), std::string::npos) << to_host.out;
  EXPECT_EQ(host_server.received(), "ping");
  EXPECT_EQ(host_server.peer(), b->address) << "on the bridge, no NAT";
}

TEST_F(BridgeNetworkTest, NETNS_TrafficLeavingTheBridgeIsMasqueraded) {
  if (!testing::have_static_busybox()) GTEST_SKIP() << "needs busybox-static";
  import_busybox();
  ASSERT_TRUE(manager_);
  // "Outside": a namespace of the test's, wired to the host by a veth, with no route back to
  // the pods' subnet: only a masqueraded connection can be answered.
  auto outside = create_pod_network(root_, "outside");
  ASSERT_TRUE(outside.ok()) << outside.error().message();
  pods_.push_back("outside");
  std::string host_end = "gantryo" + tag_;
  std::string host_addr = outside_prefix_ + "1", outside_addr = outside_prefix_ + "2";
  auto host = nl::RouteSocket::open();
  ASSERT_TRUE(host.ok());
  struct Cleanup {
    nl::RouteSocket& s;
    std::string name;
    ~Cleanup() {
      auto del = nl::del_link(name);
      (void)s.execute(del, "delete test veth");
    }
  } cleanup{*host, host_end};
  {
    UniqueFd ns(::open(outside->netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(ns.valid());
    auto veth = nl::new_veth(host_end, 0, "eth0", ns.get());
    ASSERT_TRUE(host->execute(veth, "create outside veth").ok());
  }
  in_addr ha{}, oa{};
  ::inet_pton(AF_INET, host_addr.c_str(), &ha);
  ::inet_pton(AF_INET, outside_addr.c_str(), &oa);
  auto link = host->link(host_end);
  ASSERT_TRUE(link.ok());
  auto addr = nl::add_ipv4_address(link->index, ha, 24);
  ASSERT_TRUE(host->execute(addr, "address host end").ok());
  auto up = nl::set_link_up(link->index);
  ASSERT_TRUE(host->execute(up, "host end up").ok());
  in_netns(outside->netns_path, [&] {
    auto inside = nl::RouteSocket::open();
    ASSERT_TRUE(inside.ok());
    auto eth0 = inside->link("eth0");
    ASSERT_TRUE(eth0.ok());
    auto a2 = nl::add_ipv4_address(eth0->index, oa, 24);
    ASSERT_TRUE(inside->execute(a2, "address outside end").ok());
    auto up2 = nl::set_link_up(eth0->index);
    ASSERT_TRUE(inside->execute(up2, "outside end up").ok());
  });

  auto p = pod("client");
  ASSERT_TRUE(p.ok()) << p.error().message();
  OneShotServer server(outside_addr, outside->netns_path);
  Ran r = run_in(*p, {"/bin/sh", "-c",
                      "echo ping | nc " + outside_addr + " " + std::to_string(server.port())});
  server.stop();
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("pong"), std::string::npos) << r.out;
  EXPECT_EQ(server.received(), "ping");
  EXPECT_EQ(server.peer(), host_addr) << "the source was rewritten to the host's address";
}

TEST_F(BridgeNetworkTest, NETNS_ConcurrentPodsGetDistinctAddresses) {
  constexpr int kPods = 6;
  std::vector<Result<PodNetwork>> made(kPods, Error(ErrorCode::kInternal, "not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kPods; ++i) {
    threads.emplace_back([&, i] {
      made[i] = create_pod_network(root_, "p" + std::to_string(i), options_);
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> addresses;
  for (int i = 0; i < kPods; ++i) {
    ASSERT_TRUE(made[i].ok()) << made[i].error().message();
    pods_.push_back("p" + std::to_string(i));
    addresses.insert(made[i]->address);
  }
  EXPECT_EQ(addresses.size(), size_t{kPods});
  auto nets = list_bridge_networks(root_);
  ASSERT_TRUE(nets.ok());
  EXPECT_EQ(nets->at(0).allocations.size(), size_t{kPods});
}

TEST_F(BridgeNetworkTest, NETNS_ACrashedPodsAddressIsReclaimedAndPruneKeepsNetworksInUse) {
  auto a = pod("a");
  ASSERT_TRUE(a.ok()) << a.error().message();
  // A crash: the namespace and its veth are gone, the address record stayed.
  auto nets = list_bridge_networks(root_);
  ASSERT_TRUE(nets.ok());
  std::string veth = nets->at(0).allocations.at(0).veth;
  auto host = nl::RouteSocket::open();
  ASSERT_TRUE(host.ok());
  auto del = nl::del_link(veth);
  ASSERT_TRUE(host->execute(del, "delete veth").ok());
  ASSERT_EQ(::umount2(a->netns_path.c_str(), MNT_DETACH), 0);
  ASSERT_EQ(::unlink(a->netns_path.c_str()), 0);
  pods_.clear();
  std::string dir = join_path(join_path(root_, "networks"), config_.name);
  EXPECT_TRUE(path_exists(join_path(join_path(dir, "addresses"), a->address)));

  auto b = pod("b");
  ASSERT_TRUE(b.ok()) << b.error().message();
  nets = list_bridge_networks(root_);
  ASSERT_TRUE(nets.ok());
  ASSERT_EQ(nets->at(0).allocations.size(), 1u);
  EXPECT_EQ(nets->at(0).allocations[0].pod, "b");
  EXPECT_FALSE(path_exists(join_path(join_path(dir, "addresses"), a->address)));

  auto pruned = prune_bridge_networks(root_);
  ASSERT_TRUE(pruned.ok()) << pruned.error().message();
  EXPECT_TRUE(pruned->empty()) << "pod b still uses the network";
  EXPECT_TRUE(host->link(config_.name).ok());
}

TEST_F(BridgeNetworkTest, NETNS_BadConfigAndForeignBridgesAreRefusedLeavingNothing) {
  PodNetworkOptions bad = options_;
  bad.bridge.subnet = "10.213.0.0/33";
  auto p = create_pod_network(root_, "bad", bad);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(p.error().message().find("subnet '10.213.0.0/33'"), std::string::npos);
  EXPECT_FALSE(path_exists(join_path(join_path(root_, "netns"), "bad")));

  // The bridge belongs to this root: another root may not use it.
  auto mine = pod("mine");
  ASSERT_TRUE(mine.ok()) << mine.error().message();
  std::string other_root = dir_.file("other");
  ASSERT_TRUE(make_dirs(other_root).ok());
  auto theirs = create_pod_network(other_root, "theirs", options_);
  ASSERT_FALSE(theirs.ok());
  EXPECT_EQ(theirs.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(theirs.error().message().find("is not this state root's"), std::string::npos)
      << theirs.error().message();
  EXPECT_FALSE(path_exists(join_path(join_path(other_root, "netns"), "theirs")));
  auto other_nets = list_bridge_networks(other_root);
  ASSERT_TRUE(other_nets.ok());
  EXPECT_TRUE(other_nets->empty()) << "nothing recorded for the refused root";
}

// The command line: `container run --network bridge` gives the container eth0 on the bridge and
// takes it back when it ends; `network ls` and `network prune` see and remove the network.
TEST_F(BridgeNetworkTest, NETNS_ContainerRunOnTheBridgeAndNetworkPrune) {
  if (!testing::have_static_busybox()) GTEST_SKIP() << "needs busybox-static";
  import_busybox();
  ASSERT_TRUE(manager_);
  auto gantry = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {GANTRY_BIN, "--root", root_});
    SubprocessOptions o;
    o.timeout = std::chrono::minutes(2);
    auto r = run_subprocess(args, o);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : SubprocessResult{};
  };
  std::string prefix = config_.subnet.substr(0, config_.subnet.rfind('.') + 1);
  auto run = gantry({"container", "run", "--rm", "--network", "bridge", "--bridge", config_.name,
                     "--subnet", config_.subnet, "localhost/bb:1", "/bin/sh", "-c",
                     "ip -4 addr show eth0; ip route; cat /etc/hosts"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("inet " + prefix), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("default via " + prefix + "1"), std::string::npos) << run.out;
  auto ls = gantry({"network", "ls", "--json"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  auto j = parse_json(ls.out, "network ls");
  ASSERT_TRUE(j.ok()) << ls.out;
  ASSERT_EQ(j->size(), 1u) << ls.out;
  EXPECT_EQ((*j)[0]["bridge"], config_.name);
  EXPECT_TRUE((*j)[0]["pods"].empty()) << "the container's pod went with it";
  auto pins = list_dir(join_path(root_, "netns"));
  EXPECT_TRUE(!pins.ok() || pins->empty()) << "no pod network pinned any more";

  auto bad = gantry({"container", "run", "--rm", "--network", "bridge", "--subnet", "10.1.2.3/8",
                     "localhost/bb:1", "true"});
  EXPECT_EQ(bad.exit_code, 125);
  EXPECT_NE(bad.err.find("subnet '10.1.2.3/8'"), std::string::npos) << bad.err;

  auto prune = gantry({"network", "prune"});
  EXPECT_EQ(prune.exit_code, 0) << prune.err;
  EXPECT_EQ(prune.out, config_.name + "\n");
  auto host = nl::RouteSocket::open();
  ASSERT_TRUE(host.ok());
  EXPECT_FALSE(host->link(config_.name).ok());
}

// `gantry run --network bridge`: a job's containers share one pod on the bridge, reach the host
// at the gateway, and the pod is gone when the run ends.
TEST_F(BridgeNetworkTest, NETNS_GantryRunPutsEachJobOnTheBridge) {
  if (!testing::have_static_busybox()) GTEST_SKIP() << "needs busybox-static";
  import_busybox();
  ASSERT_TRUE(manager_);
  auto warm = pod("warm");  // makes the bridge, so the test's server can listen at the gateway
  ASSERT_TRUE(warm.ok()) << warm.error().message();
  OneShotServer server(warm->gateway);
  TempDir project("gantry-bridge-project");
  ASSERT_TRUE(write_file(project.file(".gantry-ci.yml"),
                         "probe:\n"
                         "  image: localhost/bb:1\n"
                         "  script:\n"
                         "    - ip -4 addr show eth0\n"
                         "    - echo ping | nc " + warm->gateway + " " +
                             std::to_string(server.port()) + "\n")
                  .ok());
  SubprocessOptions o;
  o.cwd = project.path();
  o.timeout = std::chrono::minutes(3);
  auto r = run_subprocess({GANTRY_BIN, "--root", root_, "run", "--network", "bridge", "--bridge",
                           config_.name, "--subnet", config_.subnet, "--color", "never"},
                          o);
  server.stop();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
  std::string prefix = config_.subnet.substr(0, config_.subnet.rfind('.') + 1);
  EXPECT_NE(r->out.find("inet " + prefix), std::string::npos) << r->out;
  EXPECT_NE(r->out.find("pong"), std::string::npos) << r->out;
  EXPECT_EQ(server.received(), "ping");
  EXPECT_EQ(server.peer().rfind(prefix, 0), 0u) << server.peer();
  EXPECT_NE(server.peer(), warm->address);
  auto nets = list_bridge_networks(root_);
  ASSERT_TRUE(nets.ok());
  ASSERT_EQ(nets->at(0).allocations.size(), 1u) << "the job's pod is gone";
  EXPECT_EQ(nets->at(0).allocations[0].pod, "warm");
}

}  // namespace
}  // namespace gantry::agent
