// IPAM: subnet parsing and arithmetic, round-robin choice, and the on-disk allocator: distinct
// addresses under concurrency, release, reclaim of dead pods, a full subnet, a changed subnet.
#include "agent/ipam.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "common/file.h"
#include "tests/support/temp_dir.h"

namespace gantry::agent {
namespace {

using testing::TempDir;

uint32_t ip(const char* text) { return parse_ipv4(text).value(); }

TEST(Ipv4SubnetTest, ParsesCidrAndKnowsItsAddresses) {
  auto s = Ipv4Subnet::parse("10.89.0.0/16");
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->to_string(), "10.89.0.0/16");
  EXPECT_EQ(format_ipv4(s->gateway()), "10.89.0.1");
  EXPECT_EQ(format_ipv4(s->first_host()), "10.89.0.2");
  EXPECT_EQ(format_ipv4(s->last_host()), "10.89.255.254");
  EXPECT_EQ(format_ipv4(s->broadcast()), "10.89.255.255");
  EXPECT_TRUE(s->contains(ip("10.89.200.3")));
  EXPECT_FALSE(s->contains(ip("10.88.0.2")));
}

TEST(Ipv4SubnetTest, RejectsBadTextNamingIt) {
  for (const char* bad : {"10.89.0.0", "10.89.0.0/", "10.89.0.0/x", "10.89.0.0/33", "10.89.0.0/31",
                          "10.89.0/16", "300.1.1.1/8", "10.89.0.0/4"}) {
    auto s = Ipv4Subnet::parse(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(s.error().message().find(bad), std::string::npos) << s.error().message();
  }
  auto host_bits = Ipv4Subnet::parse("10.89.0.1/16");
  ASSERT_FALSE(host_bits.ok());
  EXPECT_NE(host_bits.error().message().find("did you mean 10.89.0.0/16"), std::string::npos)
      << host_bits.error().message();
}

TEST(Ipv4SubnetTest, Overlaps) {
  auto a = Ipv4Subnet::parse("10.89.0.0/16").value();
  EXPECT_TRUE(a.overlaps(Ipv4Subnet::parse("10.89.3.0/24").value()));
  EXPECT_TRUE(a.overlaps(Ipv4Subnet::parse("10.0.0.0/8").value()));
  EXPECT_FALSE(a.overlaps(Ipv4Subnet::parse("10.88.0.0/16").value()));
}

TEST(NextFreeAddressTest, GoesRoundRobinAfterTheLastAndSkipsUsedOnes) {
  auto s = Ipv4Subnet::parse("10.1.1.0/29").value();  // hosts .2 .. .6
  EXPECT_EQ(format_ipv4(*next_free_address(s, {}, 0)), "10.1.1.2");
  EXPECT_EQ(format_ipv4(*next_free_address(s, {}, ip("10.1.1.2"))), "10.1.1.3");
  EXPECT_EQ(format_ipv4(*next_free_address(s, {ip("10.1.1.4")}, ip("10.1.1.3"))), "10.1.1.5");
  EXPECT_EQ(format_ipv4(*next_free_address(s, {}, ip("10.1.1.6"))), "10.1.1.2") << "wraps";
  EXPECT_EQ(format_ipv4(*next_free_address(s, {ip("10.1.1.2")}, ip("10.1.1.6"))), "10.1.1.3");
  std::set<uint32_t> all;
  for (uint32_t a = s.first_host(); a <= s.last_host(); ++a) all.insert(a);
  EXPECT_FALSE(next_free_address(s, all, 0).has_value());
}

class IpamTest : public ::testing::Test {
 protected:
  // A pod is alive while its (fake) netns path exists.
  static bool alive(const Allocation& a) { return path_exists(a.netns_path); }

  Allocation pod(const std::string& name) {
    Allocation a;
    a.pod = name;
    a.netns_path = dir_.file(name);
    EXPECT_TRUE(write_file(a.netns_path, "").ok());
    a.veth = "gveth-" + name;
    return a;
  }
  Ipam open(const char* subnet = "10.7.0.0/24") {
    auto ipam = Ipam::open(dir_.path(), "net0", Ipv4Subnet::parse(subnet).value(), alive);
    EXPECT_TRUE(ipam.ok()) << ipam.error().message();
    return std::move(ipam).value();
  }

  TempDir dir_;
};

TEST_F(IpamTest, AllocatesRecordsAndReleases) {
  Ipam ipam = open();
  auto a = ipam.allocate(pod("a"));
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->address, "10.7.0.2");
  auto b = ipam.allocate(pod("b"));
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_EQ(b->address, "10.7.0.3");
  auto all = ipam.list();
  ASSERT_TRUE(all.ok()) << all.error().message();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].pod, "a");
  EXPECT_EQ((*all)[0].veth, "gveth-a");
  EXPECT_EQ((*all)[1].address, "10.7.0.3");
  ASSERT_TRUE(ipam.release("10.7.0.2").ok());
  ASSERT_TRUE(ipam.release("10.7.0.2").ok()) << "idempotent";
  EXPECT_EQ(ipam.list()->size(), 1u);
  EXPECT_EQ(ipam.allocate(pod("c"))->address, "10.7.0.4") << "round robin, not at once reused";
  EXPECT_FALSE(ipam.release("../subnet").ok()) << "only addresses name files";
}

TEST_F(IpamTest, ConcurrentAllocatorsNeverShareAnAddress) {
  constexpr int kThreads = 8, kEach = 10;
  std::vector<std::vector<std::string>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread its own Ipam and lock file descriptor, as separate processes have.
      auto ipam = Ipam::open(dir_.path(), "net0", Ipv4Subnet::parse("10.7.0.0/24").value(), alive);
      ASSERT_TRUE(ipam.ok());
      for (int i = 0; i < kEach; ++i) {
        Allocation a;
        a.pod = "p" + std::to_string(t) + "-" + std::to_string(i);
        a.netns_path = dir_.path();  // alive
        auto r = ipam->allocate(a);
        ASSERT_TRUE(r.ok()) << r.error().message();
        got[t].push_back(r->address);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> distinct;
  for (const auto& g : got) distinct.insert(g.begin(), g.end());
  EXPECT_EQ(distinct.size(), size_t{kThreads * kEach});
  EXPECT_EQ(open().list()->size(), size_t{kThreads * kEach});
}

TEST_F(IpamTest, AllocationsOfDeadPodsAreReclaimed) {
  Ipam ipam = open("10.7.0.0/30");  // one host address: .2
  Allocation first = pod("first");
  ASSERT_TRUE(ipam.allocate(first).ok());
  auto full = ipam.allocate(pod("second"));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(full.error().message().find("10.7.0.0/30"), std::string::npos);
  ASSERT_EQ(::unlink(first.netns_path.c_str()), 0);  // the first pod's process crashed
  auto again = ipam.allocate(pod("third"));
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->address, "10.7.0.2");
  EXPECT_EQ(ipam.list()->at(0).pod, "third");
}

TEST_F(IpamTest, AnotherSubnetForTheSameNetworkIsRefused) {
  (void)open("10.7.0.0/24");
  auto other = Ipam::open(dir_.path(), "net0", Ipv4Subnet::parse("10.8.0.0/24").value(), alive);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(other.error().message().find("10.7.0.0/24"), std::string::npos);
}

TEST_F(IpamTest, NetnsAliveNeedsTheSameNamespaceMountedAtThePath) {
  Allocation a;
  a.netns_path = dir_.file("plain-file");
  ASSERT_TRUE(write_file(a.netns_path, "").ok());
  EXPECT_FALSE(netns_alive(a)) << "a file that is not a namespace";
  a.netns_path = "/proc/self/ns/net";
  EXPECT_TRUE(netns_alive(a));
  a.netns_inode = 1;  // another namespace's inode
  EXPECT_FALSE(netns_alive(a));
}

}  // namespace
}  // namespace gantry::agent
