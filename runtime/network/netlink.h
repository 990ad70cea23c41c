// rtnetlink: links, addresses and routes over a NETLINK_ROUTE socket, without the `ip` program.
// Two halves: PURE message encoding and parsing (NetlinkMessage, the request builders and
// parse_* below, unit-tested byte for byte), and a small RouteSocket that sends one request and
// reads its acknowledgement or reply. A netlink socket acts in the network namespace it was
// created in, for its whole life: open one inside a namespace to configure that namespace.
// RouteSocket is not thread-safe (one request at a time); the functions are.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace gantry::runtime::netlink {

// One netlink message under construction: the nlmsghdr, a fixed family header (ifinfomsg,
// ifaddrmsg, rtmsg) and attributes, nested ones included, each aligned to 4 bytes.
class NetlinkMessage {
 public:
  NetlinkMessage(uint16_t type, uint16_t flags);

  // Appends a fixed struct, padded to 4 bytes: the family header right after the nlmsghdr,
  // or the ifinfomsg that opens a veth peer's attributes inside VETH_INFO_PEER.
  void put_struct(const void* data, size_t size);
  template <typename T>
  void put_struct(const T& header) {
    put_struct(&header, sizeof header);
  }

  void put_attr(uint16_t type, const void* data, size_t size);
  void put_string(uint16_t type, std::string_view s);  // NUL-terminated, as the kernel wants
  void put_u32(uint16_t type, uint32_t v);
  void put_in_addr(uint16_t type, in_addr a);
  // begin_nested returns a mark for end_nested, which fixes the nested attribute's length.
  size_t begin_nested(uint16_t type);
  void end_nested(size_t mark);

  uint16_t type() const;
  // The complete message with `seq` filled in.
  const std::vector<uint8_t>& bytes(uint32_t seq);
  const std::vector<uint8_t>& bytes() const { return buf_; }

 private:
  std::vector<uint8_t> buf_;
};

// Requests. Every one asks for an acknowledgement (NLM_F_ACK).
// A bridge named `name`, down. EEXIST (as an Error from RouteSocket) if the name is taken.
NetlinkMessage new_bridge(std::string_view name);
// Sets link `index`'s alias (IFLA_IFALIAS; the kernel ignores it when creating a link).
NetlinkMessage set_link_alias(uint32_t index, std::string_view alias);
// A veth pair: `name` here (enslaved to `master_index` when non-zero), `peer_name` created
// directly in the network namespace `peer_netns_fd`.
NetlinkMessage new_veth(std::string_view name, uint32_t master_index, std::string_view peer_name,
                        int peer_netns_fd);
// Brings link `index` up.
NetlinkMessage set_link_up(uint32_t index);
// Deletes a link by name (a veth's peer goes with it).
NetlinkMessage del_link(std::string_view name);
// Asks for one link by name; the reply is an RTM_NEWLINK for parse_link().
NetlinkMessage get_link(std::string_view name);
// Adds `address`/`prefix_len` to link `index` (with the subnet's broadcast address).
NetlinkMessage add_ipv4_address(uint32_t index, in_addr address, uint8_t prefix_len);
// Asks for every IPv4 address (a dump; parse each reply part with parse_address()).
NetlinkMessage dump_ipv4_addresses();
// A default route via `gateway` out of link `index`, in the main table.
NetlinkMessage add_default_route(in_addr gateway, uint32_t index);

struct LinkInfo {
  uint32_t index = 0;
  std::string name;
  std::string kind;   // IFLA_INFO_KIND: "bridge", "veth", "" when none was reported
  std::string alias;  // IFLA_IFALIAS
  uint32_t master = 0;
  bool up = false;
};

struct AddressInfo {
  uint32_t index = 0;  // the link
  in_addr address{};
  uint8_t prefix_len = 0;
};

// One message (header included) of a reply. kInvalidArgument when it is cut short or of
// another type.
Result<LinkInfo> parse_link(const uint8_t* msg, size_t len);
Result<AddressInfo> parse_address(const uint8_t* msg, size_t len);

// An NLMSG_ERROR message: ok for an acknowledgement (error 0), else the errno as an Error whose
// message is the kernel's extended-ack text when it sent one, else strerror.
Status parse_ack(const uint8_t* msg, size_t len);

// A NETLINK_ROUTE socket in the calling thread's network namespace.
class RouteSocket {
 public:
  static Result<RouteSocket> open();

  // Sends `request` and waits for its acknowledgement. An errno from the kernel comes back as
  // an Error naming `what` ("create bridge 'gantry0': file exists").
  Status execute(NetlinkMessage& request, std::string_view what);
  // Sends a request that has one reply message (get_link) and returns that message.
  Result<std::vector<uint8_t>> query(NetlinkMessage& request, std::string_view what);
  // Sends a request and returns every reply message, in order (the parts of a dump; none when
  // the kernel only acknowledges). execute() and query() are built on it.
  Result<std::vector<std::vector<uint8_t>>> dump(NetlinkMessage& request, std::string_view what);

  // The link called `name`; kNotFound when there is none.
  Result<LinkInfo> link(std::string_view name);

 private:
  explicit RouteSocket(UniqueFd fd) : fd_(std::move(fd)) {}
  Status send(NetlinkMessage& request, uint32_t seq);
  // Reads datagrams until the reply to `seq` is complete; each message goes to `on_message`.
  template <typename F>
  Status receive(uint32_t seq, F&& on_message);

  UniqueFd fd_;
  uint32_t seq_ = 0;
};

}  // namespace gantry::runtime::netlink
