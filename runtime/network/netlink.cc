#include "runtime/network/netlink.h"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <cstring>

#include "common/result.h"

namespace gantry::runtime::netlink {

namespace {

constexpr size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

nlmsghdr* header_of(std::vector<uint8_t>& buf) { return reinterpret_cast<nlmsghdr*>(buf.data()); }

// The header of a `type` message whose fixed part is `body` bytes, checked to fit in `len`.
Result<nlmsghdr> check_message(const uint8_t* msg, size_t len, uint16_t type, size_t body,
                               std::string_view what) {
  if (len < NLMSG_HDRLEN + body) {
    return Error(ErrorCode::kInvalidArgument, "netlink " + std::string(what) + ": message cut short");
  }
  nlmsghdr h;
  std::memcpy(&h, msg, sizeof h);
  if (h.nlmsg_type != type || h.nlmsg_len > len) {
    return Error(ErrorCode::kInvalidArgument, "netlink " + std::string(what) +
                                                  ": message of type " +
                                                  std::to_string(h.nlmsg_type));
  }
  return h;
}

// Walks the attributes in [p, end), calling f(type, data, size) for each.
template <typename F>
void for_each_attr(const uint8_t* p, const uint8_t* end, F&& f) {
  while (p + sizeof(nlattr) <= end) {
    nlattr a;
    std::memcpy(&a, p, sizeof a);
    if (a.nla_len < sizeof(nlattr) || p + a.nla_len > end) return;
    f(static_cast<uint16_t>(a.nla_type & NLA_TYPE_MASK), p + sizeof(nlattr),
      a.nla_len - sizeof(nlattr));
    p += align4(a.nla_len);
  }
}

std::string attr_string(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  if (auto nul = s.find('\0'); nul != std::string::npos) s.resize(nul);
  return s;
}

uint32_t attr_u32(const uint8_t* data, size_t size) {
  uint32_t v = 0;
  if (size >= sizeof v) std::memcpy(&v, data, sizeof v);
  return v;
}

constexpr uint16_t kCreate = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;

}  // namespace

NetlinkMessage::NetlinkMessage(uint16_t type, uint16_t flags) : buf_(sizeof(nlmsghdr), 0) {
  nlmsghdr* h = header_of(buf_);
  h->nlmsg_type = type;
  h->nlmsg_flags = flags;
  h->nlmsg_len = static_cast<uint32_t>(buf_.size());
}

void NetlinkMessage::put_struct(const void* data, size_t size) {
  size_t at = buf_.size();
  buf_.resize(at + align4(size), 0);
  std::memcpy(buf_.data() + at, data, size);
  header_of(buf_)->nlmsg_len = static_cast<uint32_t>(buf_.size());
}

void NetlinkMessage::put_attr(uint16_t type, const void* data, size_t size) {
  size_t at = buf_.size();
  nlattr a{};
  a.nla_len = static_cast<uint16_t>(sizeof(nlattr) + size);
  a.nla_type = type;
  buf_.resize(at + align4(a.nla_len), 0);
  std::memcpy(buf_.data() + at, &a, sizeof a);
  if (size > 0) std::memcpy(buf_.data() + at + sizeof a, data, size);
  header_of(buf_)->nlmsg_len = static_cast<uint32_t>(buf_.size());
}

void NetlinkMessage::put_string(uint16_t type, std::string_view s) {
  std::string z(s);
  put_attr(type, z.c_str(), z.size() + 1);
}

void NetlinkMessage::put_u32(uint16_t type, uint32_t v) { put_attr(type, &v, sizeof v); }

void NetlinkMessage::put_in_addr(uint16_t type, in_addr a) { put_attr(type, &a, sizeof a); }

size_t NetlinkMessage::begin_nested(uint16_t type) {
  size_t mark = buf_.size();
  put_attr(static_cast<uint16_t>(type | NLA_F_NESTED), nullptr, 0);
  return mark;
}

void NetlinkMessage::end_nested(size_t mark) {
  GANTRY_CHECK(mark + sizeof(nlattr) <= buf_.size());
  nlattr a;
  std::memcpy(&a, buf_.data() + mark, sizeof a);
  a.nla_len = static_cast<uint16_t>(buf_.size() - mark);
  std::memcpy(buf_.data() + mark, &a, sizeof a);
}

uint16_t NetlinkMessage::type() const {
  return reinterpret_cast<const nlmsghdr*>(buf_.data())->nlmsg_type;
}

const std::vector<uint8_t>& NetlinkMessage::bytes(uint32_t seq) {
  header_of(buf_)->nlmsg_seq = seq;
  return buf_;
}

namespace {

// A link message: its header and ifinfomsg (for link `index`, 0 = by name or new), then the
// name when one is given.
NetlinkMessage link_message(uint16_t type, uint16_t flags, std::string_view name,
                            uint32_t index = 0, unsigned up_flags = 0) {
  NetlinkMessage m(type, flags);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = static_cast<int>(index);
  ifi.ifi_flags = up_flags;
  ifi.ifi_change = up_flags;
  m.put_struct(ifi);
  if (!name.empty()) m.put_string(IFLA_IFNAME, name);
  return m;
}

}  // namespace

NetlinkMessage new_bridge(std::string_view name) {
  NetlinkMessage m = link_message(RTM_NEWLINK, kCreate, name);
  size_t info = m.begin_nested(IFLA_LINKINFO);
  m.put_string(IFLA_INFO_KIND, "bridge");
  m.end_nested(info);
  return m;
}

NetlinkMessage new_veth(std::string_view name, uint32_t master_index, std::string_view peer_name,
                        int peer_netns_fd) {
  NetlinkMessage m = link_message(RTM_NEWLINK, kCreate, name);
  if (master_index != 0) m.put_u32(IFLA_MASTER, master_index);
  size_t info = m.begin_nested(IFLA_LINKINFO);
  m.put_string(IFLA_INFO_KIND, "veth");
  size_t data = m.begin_nested(IFLA_INFO_DATA);
  size_t peer = m.begin_nested(VETH_INFO_PEER);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  m.put_struct(ifi);  // the peer's attributes follow an ifinfomsg of its own
  m.put_string(IFLA_IFNAME, peer_name);
  m.put_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(peer_netns_fd));
  m.end_nested(peer);
  m.end_nested(data);
  m.end_nested(info);
  return m;
}

NetlinkMessage set_link_up(uint32_t index) {
  return link_message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, "", index, IFF_UP);
}

NetlinkMessage set_link_alias(uint32_t index, std::string_view alias) {
  NetlinkMessage m = link_message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, "", index);
  m.put_string(IFLA_IFALIAS, alias);
  return m;
}

NetlinkMessage del_link(std::string_view name) {
  return link_message(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, name);
}

NetlinkMessage get_link(std::string_view name) {
  return link_message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, name);
}

NetlinkMessage add_ipv4_address(uint32_t index, in_addr address, uint8_t prefix_len) {
  NetlinkMessage m(RTM_NEWADDR, kCreate);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_prefixlen = prefix_len;
  ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  ifa.ifa_index = index;
  m.put_struct(ifa);
  m.put_in_addr(IFA_LOCAL, address);
  m.put_in_addr(IFA_ADDRESS, address);
  if (prefix_len < 31) {
    uint32_t host_mask = prefix_len == 0 ? 0xffffffffu : (0xffffffffu >> prefix_len);
    in_addr broadcast{htonl(ntohl(address.s_addr) | host_mask)};
    m.put_in_addr(IFA_BROADCAST, broadcast);
  }
  return m;
}

NetlinkMessage dump_ipv4_addresses() {
  NetlinkMessage m(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  m.put_struct(ifa);
  return m;
}

NetlinkMessage add_default_route(in_addr gateway, uint32_t index) {
  NetlinkMessage m(RTM_NEWROUTE, kCreate);
  rtmsg rt{};
  rt.rtm_family = AF_INET;
  rt.rtm_dst_len = 0;
  rt.rtm_table = RT_TABLE_MAIN;
  rt.rtm_protocol = RTPROT_BOOT;
  rt.rtm_scope = RT_SCOPE_UNIVERSE;
  rt.rtm_type = RTN_UNICAST;
  m.put_struct(rt);
  m.put_in_addr(RTA_GATEWAY, gateway);
  m.put_u32(RTA_OIF, index);
  return m;
}

Result<LinkInfo> parse_link(const uint8_t* msg, size_t len) {
  GANTRY_ASSIGN_OR_RETURN(nlmsghdr h,
                          check_message(msg, len, RTM_NEWLINK, sizeof(ifinfomsg), "link"));
  ifinfomsg ifi;
  std::memcpy(&ifi, msg + NLMSG_HDRLEN, sizeof ifi);
  LinkInfo info;
  info.index = static_cast<uint32_t>(ifi.ifi_index);
  info.up = (ifi.ifi_flags & IFF_UP) != 0;
  const uint8_t* attrs = msg + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg));
  for_each_attr(attrs, msg + h.nlmsg_len, [&](uint16_t type, const uint8_t* d, size_t n) {
    if (type == IFLA_IFNAME) info.name = attr_string(d, n);
    if (type == IFLA_IFALIAS) info.alias = attr_string(d, n);
    if (type == IFLA_MASTER) info.master = attr_u32(d, n);
    if (type == IFLA_LINKINFO) {
      for_each_attr(d, d + n, [&](uint16_t t, const uint8_t* d2, size_t n2) {
        if (t == IFLA_INFO_KIND) info.kind = attr_string(d2, n2);
      });
    }
  });
  return info;
}

Result<AddressInfo> parse_address(const uint8_t* msg, size_t len) {
  GANTRY_ASSIGN_OR_RETURN(nlmsghdr h,
                          check_message(msg, len, RTM_NEWADDR, sizeof(ifaddrmsg), "address"));
  ifaddrmsg ifa;
  std::memcpy(&ifa, msg + NLMSG_HDRLEN, sizeof ifa);
  AddressInfo info;
  info.index = ifa.ifa_index;
  info.prefix_len = ifa.ifa_prefixlen;
  bool have_local = false;
  const uint8_t* attrs = msg + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifaddrmsg));
  for_each_attr(attrs, msg + h.nlmsg_len, [&](uint16_t type, const uint8_t* d, size_t n) {
    if (n < sizeof(in_addr)) return;
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on point-to-point.
    if (type == IFA_LOCAL) {
      std::memcpy(&info.address, d, sizeof(in_addr));
      have_local = true;
    } else if (type == IFA_ADDRESS && !have_local) {
      std::memcpy(&info.address, d, sizeof(in_addr));
    }
  });
  return info;
}

Status parse_ack(const uint8_t* msg, size_t len) {
  GANTRY_ASSIGN_OR_RETURN(
      nlmsghdr h, check_message(msg, len, NLMSG_ERROR, sizeof(nlmsgerr), "acknowledgement"));
  nlmsgerr e;
  std::memcpy(&e, msg + NLMSG_HDRLEN, sizeof e);
  if (e.error == 0) return ok_status();
  int err = -e.error;
  std::string text = std::strerror(err);
  if ((h.nlmsg_flags & NLM_F_ACK_TLVS) != 0) {
    // Extended ack: attributes after the nlmsgerr and, unless capped, the echoed request.
    size_t off = NLMSG_HDRLEN + sizeof(nlmsgerr);
    if ((h.nlmsg_flags & NLM_F_CAPPED) == 0) off += e.msg.nlmsg_len - NLMSG_HDRLEN;
    if (off <= h.nlmsg_len) {
      for_each_attr(msg + off, msg + h.nlmsg_len, [&](uint16_t type, const uint8_t* d, size_t n) {
        if (type == NLMSGERR_ATTR_MSG) {
          std::string detail = attr_string(d, n);
          if (!detail.empty()) text += " (" + detail + ")";
        }
      });
    }
  }
  return Error(error_code_from_errno(err), text, err);
}

Result<RouteSocket> RouteSocket::open() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) return sys_error("open netlink route socket");
  int one = 1;
  // Best effort: the kernel's own words for a refusal ("Unknown device type"), without the
  // request echoed back.
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    return sys_error("bind netlink route socket");
  }
  return RouteSocket(std::move(fd));
}

Status RouteSocket::send(NetlinkMessage& request, uint32_t seq) {
  const auto& bytes = request.bytes(seq);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    ssize_t n = ::sendto(fd_.get(), bytes.data(), bytes.size(), 0,
                         reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    if (n == static_cast<ssize_t>(bytes.size())) return ok_status();
    if (n < 0 && errno == EINTR) continue;
    return sys_error("send netlink request");
  }
}

template <typename F>
Status RouteSocket::receive(uint32_t seq, F&& on_message) {
  std::vector<uint8_t> buf(64 * 1024);
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("receive netlink reply");
    }
    size_t left = static_cast<size_t>(n);
    const uint8_t* p = buf.data();
    while (left >= NLMSG_HDRLEN) {
      nlmsghdr h;
      std::memcpy(&h, p, sizeof h);
      if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > left) {
        return Error(ErrorCode::kIo, "receive netlink reply: malformed message");
      }
      if (h.nlmsg_seq == seq) {
        if (h.nlmsg_type == NLMSG_ERROR) return parse_ack(p, h.nlmsg_len);
        if (h.nlmsg_type == NLMSG_DONE) {
          int err = 0;
          if (h.nlmsg_len >= NLMSG_HDRLEN + sizeof err)
            std::memcpy(&err, p + NLMSG_HDRLEN, sizeof err);
          if (err < 0) return Error(error_code_from_errno(-err), std::strerror(-err), -err);
          return ok_status();
        }
        on_message(p, static_cast<size_t>(h.nlmsg_len));
      }
      size_t step = NLMSG_ALIGN(h.nlmsg_len);
      if (step >= left) break;
      p += step;
      left -= step;
    }
  }
}

Status RouteSocket::execute(NetlinkMessage& request, std::string_view what) {
  GANTRY_TRY(dump(request, what));
  return ok_status();
}

Result<std::vector<uint8_t>> RouteSocket::query(NetlinkMessage& request, std::string_view what) {
  GANTRY_ASSIGN_OR_RETURN(auto replies, dump(request, what));
  if (replies.empty()) {
    return Error(ErrorCode::kIo, std::string(what) + ": no reply from the kernel");
  }
  return std::move(replies.front());
}

Result<std::vector<std::vector<uint8_t>>> RouteSocket::dump(NetlinkMessage& request,
                                                            std::string_view what) {
  uint32_t seq = ++seq_;
  std::vector<std::vector<uint8_t>> replies;
  Status st = send(request, seq);
  if (st.ok()) {
    st = receive(seq, [&](const uint8_t* m, size_t n) { replies.emplace_back(m, m + n); });
  }
  if (!st.ok()) return std::move(st).error().with_context(what);
  return replies;
}

Result<LinkInfo> RouteSocket::link(std::string_view name) {
  NetlinkMessage req = get_link(name);
  auto reply = query(req, "find link '" + std::string(name) + "'");
  if (!reply.ok()) {
    if (reply.error().sys_errno() == ENODEV) {
      return Error(ErrorCode::kNotFound, "link '" + std::string(name) + "' does not exist", ENODEV);
    }
    return std::move(reply).error();
  }
  return parse_link(reply->data(), reply->size());
}

}  // namespace gantry::runtime::netlink
