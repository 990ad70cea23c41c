// rtnetlink encoding and parsing, byte for byte, without a socket: the attribute layout the
// kernel expects (lengths, 4-byte padding, nesting, the veth peer's own ifinfomsg) and the
// replies it sends (links, addresses, acks with and without extended-ack text).
#include "runtime/network/netlink.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <cstring>
#include <string>
#include <vector>

namespace gantry::runtime::netlink {
namespace {

struct Attr {
  uint16_t type;
  std::vector<uint8_t> data;
};

// Splits [p, end) into attributes, checking the padding between them.
std::vector<Attr> attrs(const uint8_t* p, const uint8_t* end) {
  std::vector<Attr> out;
  while (p < end) {
    nlattr a;
    std::memcpy(&a, p, sizeof a);
    EXPECT_GE(a.nla_len, sizeof(nlattr));
    EXPECT_LE(p + a.nla_len, end);
    out.push_back({a.nla_type, std::vector<uint8_t>(p + sizeof a, p + a.nla_len)});
    p += NLA_ALIGN(a.nla_len);
  }
  EXPECT_EQ(p, end) << "attributes end exactly at the message's end";
  return out;
}

std::string str(const Attr& a) { return std::string(a.data.begin(), a.data.end()); }
uint32_t u32(const Attr& a) {
  uint32_t v = 0;
  EXPECT_EQ(a.data.size(), 4u);
  std::memcpy(&v, a.data.data(), sizeof v);
  return v;
}

nlmsghdr header(const std::vector<uint8_t>& m) {
  nlmsghdr h;
  std::memcpy(&h, m.data(), sizeof h);
  return h;
}

TEST(NetlinkMessageTest, NewBridgeCarriesNameAndKind) {
  auto m = new_bridge("gantry0");
  const auto& b = m.bytes(7);
  nlmsghdr h = header(b);
  EXPECT_EQ(h.nlmsg_len, b.size());
  EXPECT_EQ(h.nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(h.nlmsg_seq, 7u);
  EXPECT_EQ(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  const uint8_t* body = b.data() + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg));
  auto top = attrs(body, b.data() + b.size());
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].type, IFLA_IFNAME);
  EXPECT_EQ(str(top[0]), std::string("gantry0\0", 8)) << "NUL-terminated";
  EXPECT_EQ(top[1].type, IFLA_LINKINFO | NLA_F_NESTED);
  auto info = attrs(top[1].data.data(), top[1].data.data() + top[1].data.size());
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].type, IFLA_INFO_KIND);
  EXPECT_EQ(str(info[0]), std::string("bridge\0", 7));
}

TEST(NetlinkMessageTest, NewVethPutsThePeerWithItsOwnHeaderIntoTheNamespace) {
  auto m = new_veth("gveth12345678", 5, "eth0", 42);
  const auto& b = m.bytes(1);
  const uint8_t* body = b.data() + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg));
  auto top = attrs(body, b.data() + b.size());
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(str(top[0]), std::string("gveth12345678\0", 14));
  EXPECT_EQ(top[1].type, IFLA_MASTER);
  EXPECT_EQ(u32(top[1]), 5u);
  auto info = attrs(top[2].data.data(), top[2].data.data() + top[2].data.size());
  ASSERT_EQ(info.size(), 2u);
  EXPECT_EQ(str(info[0]), std::string("veth\0", 5));
  EXPECT_EQ(info[1].type, IFLA_INFO_DATA | NLA_F_NESTED);
  auto data = attrs(info[1].data.data(), info[1].data.data() + info[1].data.size());
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].type, VETH_INFO_PEER | NLA_F_NESTED);
  const auto& peer = data[0].data;
  ASSERT_GE(peer.size(), sizeof(ifinfomsg));
  ifinfomsg peer_ifi;
  std::memcpy(&peer_ifi, peer.data(), sizeof peer_ifi);
  EXPECT_EQ(peer_ifi.ifi_family, AF_UNSPEC);
  auto peer_attrs = attrs(peer.data() + NLMSG_ALIGN(sizeof(ifinfomsg)), peer.data() + peer.size());
  ASSERT_EQ(peer_attrs.size(), 2u);
  EXPECT_EQ(peer_attrs[0].type, IFLA_IFNAME);
  EXPECT_EQ(str(peer_attrs[0]), std::string("eth0\0", 5));
  EXPECT_EQ(peer_attrs[1].type, IFLA_NET_NS_FD);
  EXPECT_EQ(u32(peer_attrs[1]), 42u);
}

TEST(NetlinkMessageTest, NoMasterMeansNoMasterAttribute) {
  auto m = new_veth("a", 0, "b", 3);
  const auto& b = m.bytes(1);
  auto top = attrs(b.data() + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg)), b.data() + b.size());
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[1].type, IFLA_LINKINFO | NLA_F_NESTED);
}

TEST(NetlinkMessageTest, SetAliasAddressesTheLinkByIndex) {
  auto m = set_link_alias(3, "gantry:/srv");
  const auto& b = m.bytes(1);
  ifinfomsg ifi;
  std::memcpy(&ifi, b.data() + NLMSG_HDRLEN, sizeof ifi);
  EXPECT_EQ(ifi.ifi_index, 3);
  EXPECT_EQ(ifi.ifi_change, 0u) << "no flag changes";
  auto top = attrs(b.data() + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg)), b.data() + b.size());
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].type, IFLA_IFALIAS);
  EXPECT_EQ(str(top[0]), std::string("gantry:/srv\0", 12));
}

TEST(NetlinkMessageTest, SetLinkUpChangesOnlyTheUpFlag) {
  auto m = set_link_up(9);
  const auto& b = m.bytes(1);
  ASSERT_EQ(b.size(), NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg)));
  ifinfomsg ifi;
  std::memcpy(&ifi, b.data() + NLMSG_HDRLEN, sizeof ifi);
  EXPECT_EQ(ifi.ifi_index, 9);
  EXPECT_EQ(ifi.ifi_flags, static_cast<unsigned>(IFF_UP));
  EXPECT_EQ(ifi.ifi_change, static_cast<unsigned>(IFF_UP));
}

TEST(NetlinkMessageTest, AddAddressSetsLocalAddressAndBroadcast) {
  in_addr a{};
  ASSERT_EQ(::inet_pton(AF_INET, "10.89.0.1", &a), 1);
  auto m = add_ipv4_address(4, a, 16);
  const auto& b = m.bytes(1);
  EXPECT_EQ(header(b).nlmsg_type, RTM_NEWADDR);
  ifaddrmsg ifa;
  std::memcpy(&ifa, b.data() + NLMSG_HDRLEN, sizeof ifa);
  EXPECT_EQ(ifa.ifa_family, AF_INET);
  EXPECT_EQ(ifa.ifa_prefixlen, 16);
  EXPECT_EQ(ifa.ifa_index, 4u);
  auto top = attrs(b.data() + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifaddrmsg)), b.data() + b.size());
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].type, IFA_LOCAL);
  EXPECT_EQ(top[1].type, IFA_ADDRESS);
  EXPECT_EQ(top[2].type, IFA_BROADCAST);
  char text[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, top[2].data.data(), text, sizeof text);
  EXPECT_STREQ(text, "10.89.255.255");
}

TEST(NetlinkMessageTest, DefaultRouteGoesViaTheGatewayInTheMainTable) {
  in_addr gw{};
  ASSERT_EQ(::inet_pton(AF_INET, "10.89.0.1", &gw), 1);
  auto m = add_default_route(gw, 2);
  const auto& b = m.bytes(1);
  rtmsg rt;
  std::memcpy(&rt, b.data() + NLMSG_HDRLEN, sizeof rt);
  EXPECT_EQ(rt.rtm_dst_len, 0);
  EXPECT_EQ(rt.rtm_table, RT_TABLE_MAIN);
  EXPECT_EQ(rt.rtm_type, RTN_UNICAST);
  auto top = attrs(b.data() + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(rtmsg)), b.data() + b.size());
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].type, RTA_GATEWAY);
  EXPECT_EQ(std::memcmp(top[0].data.data(), &gw, 4), 0);
  EXPECT_EQ(top[1].type, RTA_OIF);
  EXPECT_EQ(u32(top[1]), 2u);
}

TEST(NetlinkMessageTest, DeleteAndGetLinkNameTheLink) {
  for (auto m : {del_link("gveth1"), get_link("gveth1")}) {
    const auto& b = m.bytes(1);
    auto top = attrs(b.data() + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg)), b.data() + b.size());
    ASSERT_EQ(top.size(), 1u);
    EXPECT_EQ(str(top[0]), std::string("gveth1\0", 7));
  }
  EXPECT_EQ(del_link("x").type(), RTM_DELLINK);
  EXPECT_EQ(get_link("x").type(), RTM_GETLINK);
}

// A reply as the kernel builds one, with this library's own encoder.
std::vector<uint8_t> link_reply() {
  NetlinkMessage m(RTM_NEWLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_index = 12;
  ifi.ifi_flags = IFF_UP | IFF_BROADCAST;
  m.put_struct(ifi);
  m.put_string(IFLA_IFNAME, "gantry0");
  m.put_u32(IFLA_MTU, 1500);
  m.put_u32(IFLA_MASTER, 3);
  m.put_string(IFLA_IFALIAS, "gantry:/srv");
  size_t info = m.begin_nested(IFLA_LINKINFO);
  m.put_string(IFLA_INFO_KIND, "bridge");
  m.end_nested(info);
  return m.bytes(1);
}

TEST(NetlinkParseTest, LinkReplyGivesIndexNameKindAliasMasterAndState) {
  auto b = link_reply();
  auto link = parse_link(b.data(), b.size());
  ASSERT_TRUE(link.ok()) << link.error().message();
  EXPECT_EQ(link->index, 12u);
  EXPECT_EQ(link->name, "gantry0");
  EXPECT_EQ(link->kind, "bridge");
  EXPECT_EQ(link->alias, "gantry:/srv");
  EXPECT_EQ(link->master, 3u);
  EXPECT_TRUE(link->up);
}

TEST(NetlinkParseTest, ShortOrForeignMessagesAreErrors) {
  auto b = link_reply();
  auto cut = parse_link(b.data(), 10);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().message(), "netlink link: message cut short");
  auto not_address = parse_address(b.data(), b.size());
  ASSERT_FALSE(not_address.ok()) << "a link is not an address";
  EXPECT_EQ(not_address.error().message(),
            "netlink address: message of type " + std::to_string(RTM_NEWLINK));
}

TEST(NetlinkParseTest, AddressReplyPrefersTheLocalAddress) {
  NetlinkMessage m(RTM_NEWADDR, 0);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_prefixlen = 24;
  ifa.ifa_index = 7;
  m.put_struct(ifa);
  in_addr peer{}, local{};
  ::inet_pton(AF_INET, "10.0.0.9", &peer);
  ::inet_pton(AF_INET, "10.0.0.1", &local);
  m.put_in_addr(IFA_ADDRESS, peer);
  m.put_in_addr(IFA_LOCAL, local);
  auto b = m.bytes(1);
  auto a = parse_address(b.data(), b.size());
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->index, 7u);
  EXPECT_EQ(a->prefix_len, 24);
  EXPECT_EQ(a->address.s_addr, local.s_addr);
}

std::vector<uint8_t> ack(int error, const char* ext_msg) {
  NetlinkMessage m(NLMSG_ERROR, ext_msg ? (NLM_F_CAPPED | NLM_F_ACK_TLVS) : 0);
  nlmsgerr e{};
  e.error = error;
  e.msg.nlmsg_len = 40;  // the request's length: not echoed (capped)
  m.put_struct(e);
  if (ext_msg) m.put_string(NLMSGERR_ATTR_MSG, ext_msg);
  return m.bytes(1);
}

TEST(NetlinkParseTest, AckZeroIsSuccess) {
  auto b = ack(0, nullptr);
  EXPECT_TRUE(parse_ack(b.data(), b.size()).ok());
}

TEST(NetlinkParseTest, AckWithErrnoBecomesAnErrorWithTheKernelsText) {
  auto b = ack(-EEXIST, nullptr);
  auto st = parse_ack(b.data(), b.size());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().sys_errno(), EEXIST);
  EXPECT_EQ(st.error().code(), ErrorCode::kAlreadyExists);
  auto ext = ack(-EOPNOTSUPP, "Unknown device type");
  auto st2 = parse_ack(ext.data(), ext.size());
  ASSERT_FALSE(st2.ok());
  EXPECT_EQ(st2.error().sys_errno(), EOPNOTSUPP);
  EXPECT_NE(st2.error().message().find("(Unknown device type)"), std::string::npos)
      << st2.error().message();
}

}  // namespace
}  // namespace gantry::runtime::netlink
