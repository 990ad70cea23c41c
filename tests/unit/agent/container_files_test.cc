#include "agent/container_files.h"

#include <gtest/gtest.h>

#include <vector>

namespace gantry::agent {
namespace {

TEST(HostsFileTest, LocalhostThenOwnNameThenExtraEntriesInOrder) {
  std::string hosts = render_hosts_file(
      "job-1", "10.88.0.5", {{"10.88.0.5", {"postgres", "db"}}, {"127.0.0.1", {"redis"}}});
  EXPECT_EQ(hosts,
            "127.0.0.1\tlocalhost\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\n"
            "10.88.0.5\tjob-1\n"
            "10.88.0.5\tpostgres db\n"
            "127.0.0.1\tredis\n");
}

TEST(HostsFileTest, NoAddressMapsOwnNameLikeDebian) {
  std::string hosts = render_hosts_file("box", "", {{"1.2.3.4", {}}});
  EXPECT_NE(hosts.find("127.0.1.1\tbox\n"), std::string::npos);
  EXPECT_EQ(hosts.find("1.2.3.4"), std::string::npos);  // an entry without names is dropped
}

TEST(ResolvConfTest, HostNetworkKeepsTheHostsFile) {
  std::string host = "nameserver 127.0.0.53\nsearch lan\n";
  EXPECT_EQ(render_resolv_conf(host, true), host);
}

TEST(ResolvConfTest, OwnNetworkDropsLoopbackResolversAndFallsBack) {
  EXPECT_EQ(render_resolv_conf("nameserver 127.0.0.53\nsearch lan\noptions edns0\n", false),
            "search lan\noptions edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
}

TEST(ResolvConfTest, OwnNetworkKeepsRealResolvers) {
  EXPECT_EQ(render_resolv_conf("nameserver ::1\nnameserver 192.168.1.1\n", false),
            "nameserver 192.168.1.1\n");
}

TEST(HostNameTest, AcceptsDnsLabelsAndRejectsOthersNamingThem) {
  EXPECT_TRUE(check_host_name("tutum-wordpress").ok());
  EXPECT_TRUE(check_host_name("tutum__wordpress").ok());
  EXPECT_TRUE(check_host_name("db.internal").ok());
  for (const std::string& bad :
       std::vector<std::string>{"", "-x", "a b", "a/b", std::string(254, 'a')}) {
    auto st = check_host_name(bad);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.error().message().find("'" + bad + "'"), std::string::npos);
  }
}

}  // namespace
}  // namespace gantry::agent
