#include "agent/bridge_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "agent/nftables.h"
#include "common/file.h"
#include "common/hex.h"
#include "common/json.h"
#include "common/logging.h"
#include "common/unique_fd.h"

namespace gantry::agent {

namespace nl = runtime::netlink;

namespace {

constexpr const char* kPodInterface = "eth0";
constexpr const char* kIpForward = "/proc/sys/net/ipv4/ip_forward";

in_addr to_in_addr(uint32_t host_order) { return in_addr{htonl(host_order)}; }

// What the bridge's IFLA_IFALIAS says: which state root made it.
std::string owner_alias(const std::string& root) {
  char* real = ::realpath(root.c_str(), nullptr);
  std::string path = real != nullptr ? real : root;
  std::free(real);
  return "gantry:" + path;
}

Json config_json(const BridgeConfig& c) {
  return Json{{"bridge", c.name}, {"subnet", c.subnet}, {"nft_table", c.nft_table}};
}

Result<BridgeConfig> load_config(const std::string& root, const std::string& name) {
  std::string path = join_path(join_path(join_path(root, "networks"), name), "network.json");
  GANTRY_ASSIGN_OR_RETURN(Json j, read_json_file(path));
  BridgeConfig c;
  c.name = j.value("bridge", name);
  c.subnet = j.value("subnet", "");
  c.nft_table = j.value("nft_table", "");
  GANTRY_TRY(check_bridge_config(c));
  return c;
}

// The networks recorded under the root: each directory of <root>/networks with a network.json.
Result<std::vector<BridgeConfig>> known_networks(const std::string& root) {
  std::string base = join_path(root, "networks");
  std::vector<BridgeConfig> out;
  if (!is_directory(base)) return out;
  GANTRY_ASSIGN_OR_RETURN(std::vector<std::string> names, list_dir(base));
  for (const auto& n : names) {
    if (!path_exists(join_path(join_path(base, n), "network.json"))) continue;
    GANTRY_ASSIGN_OR_RETURN(BridgeConfig c, load_config(root, n));
    out.push_back(std::move(c));
  }
  return out;
}

Result<Ipam> open_ipam(const std::string& root, const BridgeConfig& c) {
  GANTRY_ASSIGN_OR_RETURN(Ipv4Subnet subnet, Ipv4Subnet::parse(c.subnet));
  return Ipam::open(root, c.name, subnet);
}

Status enable_ip_forward() {
  auto now = read_file(kIpForward);
  if (now.ok() && !now->empty() && (*now)[0] == '1') return ok_status();
  GANTRY_TRY(write_file(kIpForward, "1\n"));
  logger("agent")->info("ipv4 forwarding enabled path={}", kIpForward);
  return ok_status();
}

// The bridge exists, is ours, carries the gateway address and is up; forwarding and NAT are on.
// Returns its index. Caller holds the network's lock.
Result<uint32_t> ensure_bridge(nl::RouteSocket& host, const std::string& root,
                               const BridgeConfig& config, const Ipv4Subnet& subnet) {
  std::string alias = owner_alias(root);
  auto link = host.link(config.name);
  if (!link.ok() && link.error().code() == ErrorCode::kNotFound) {
    auto req = nl::new_bridge(config.name);
    Status made = host.execute(req, "create bridge '" + config.name + "'");
    if (!made.ok() && made.error().sys_errno() != EEXIST) return std::move(made).error();
    link = host.link(config.name);
    if (made.ok() && link.ok()) {
      // Marked as this root's at once; the kernel takes no alias in the create request.
      auto mark = nl::set_link_alias(link->index, alias);
      GANTRY_TRY(host.execute(mark, "set the alias of bridge '" + config.name + "'"));
      link->alias = alias;
      logger("agent")->info("bridge created name={} subnet={}", config.name, subnet.to_string());
    }
  }
  if (!link.ok()) return std::move(link).error();
  if (link->kind != "bridge") {
    return Error(ErrorCode::kFailedPrecondition,
                 "link '" + config.name + "' exists and is not a bridge (kind '" + link->kind +
                     "'): choose another bridge name");
  }
  if (link->alias != alias) {
    std::string owner = link->alias.starts_with("gantry:") ? link->alias.substr(7) : "";
    std::string msg = "bridge '" + config.name + "' is not this state root's";
    if (owner.empty()) {
      msg += " (it has no gantry alias: not made by gantry)";
    } else {
      msg += ": state root '" + owner + "' made it (`gantry --root " + owner +
             " network prune` removes it when unused)";
    }
    return Error(ErrorCode::kFailedPrecondition,
                 msg + "; or give this root a bridge of its own with --bridge and --subnet");
  }
  // The gateway address on the bridge; no other link may have an address in the subnet.
  auto dump_req = nl::dump_ipv4_addresses();
  GANTRY_ASSIGN_OR_RETURN(auto replies, host.dump(dump_req, "list addresses"));
  bool have_gateway = false;
  for (const auto& r : replies) {
    auto a = nl::parse_address(r.data(), r.size());
    if (!a.ok()) continue;
    uint32_t addr = ntohl(a->address.s_addr);
    if (a->index == link->index) {
      if (addr == subnet.gateway() && a->prefix_len == subnet.prefix_len) have_gateway = true;
      continue;
    }
    Ipv4Subnet theirs{addr, a->prefix_len};
    theirs.network &= theirs.mask();
    if (theirs.overlaps(subnet)) {
      return Error(ErrorCode::kFailedPrecondition,
                   "subnet " + subnet.to_string() + " of bridge '" + config.name +
                       "' overlaps address " + format_ipv4(addr) + "/" +
                       std::to_string(a->prefix_len) + " of link " + std::to_string(a->index) +
                       ": choose another subnet");
    }
  }
  if (!have_gateway) {
    auto req = nl::add_ipv4_address(link->index, to_in_addr(subnet.gateway()), subnet.prefix_len);
    GANTRY_TRY(host.execute(req, "add address " + format_ipv4(subnet.gateway()) + " to bridge '" +
                                     config.name + "'"));
  }
  if (!link->up) {
    auto req = nl::set_link_up(link->index);
    GANTRY_TRY(host.execute(req, "bring bridge '" + config.name + "' up"));
  }
  GANTRY_TRY(enable_ip_forward());
  // Every attach re-applies the table: one atomic nft transaction, and it repairs a flushed
  // ruleset.
  GANTRY_TRY(apply_nft(render_nat_ruleset(config.nft_table, config.name, subnet.to_string()),
                       "set up nat for bridge '" + config.name + "'"));
  return link->index;
}

// Inside the pod: eth0 gets the address, comes up, routes via the gateway.
Status configure_pod_side(nl::RouteSocket& pod, const Ipv4Subnet& subnet, uint32_t address) {
  GANTRY_ASSIGN_OR_RETURN(nl::LinkInfo eth, pod.link(kPodInterface));
  auto addr = nl::add_ipv4_address(eth.index, to_in_addr(address), subnet.prefix_len);
  GANTRY_TRY(pod.execute(addr, "add address " + format_ipv4(address) + " to 'eth0'"));
  auto up = nl::set_link_up(eth.index);
  GANTRY_TRY(pod.execute(up, "bring 'eth0' up"));
  auto route = nl::add_default_route(to_in_addr(subnet.gateway()), eth.index);
  return pod.execute(route, "add default route via " + format_ipv4(subnet.gateway()));
}

Status delete_link(nl::RouteSocket& host, const std::string& name) {
  auto req = nl::del_link(name);
  Status st = host.execute(req, "delete link '" + name + "'");
  if (!st.ok() && st.error().sys_errno() == ENODEV) return ok_status();
  return st;
}

bool valid_link_name(const std::string& name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

}  // namespace

BridgeConfig bridge_config_for(const std::string& name, const std::string& subnet) {
  BridgeConfig c;
  if (!name.empty() && name != c.name) {
    c.name = name;
    c.nft_table = name;
  }
  if (!subnet.empty()) c.subnet = subnet;
  return c;
}

Status check_bridge_config(const BridgeConfig& config) {
  if (!valid_link_name(config.name)) {
    return Error(ErrorCode::kInvalidArgument,
                 "bridge name '" + config.name +
                     "': want 1-15 letters, digits, '_', '-' or '.' (a network link name)");
  }
  GANTRY_TRY(Ipv4Subnet::parse(config.subnet));
  return check_nft_table_name(config.nft_table);
}

Result<BridgeAttachment> attach_to_bridge(const std::string& root, const BridgeConfig& config,
                                          const std::string& pod_id,
                                          const std::string& netns_path,
                                          nl::RouteSocket& pod_socket) {
  GANTRY_TRY(check_bridge_config(config));
  GANTRY_ASSIGN_OR_RETURN(Ipv4Subnet subnet, Ipv4Subnet::parse(config.subnet));
  GANTRY_ASSIGN_OR_RETURN(Ipam ipam, Ipam::open(root, config.name, subnet));
  UniqueFd netns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!netns) return sys_error("open network namespace '" + netns_path + "'");
  struct stat st{};
  if (::fstat(netns.get(), &st) != 0) return sys_error("stat '" + netns_path + "'");
  GANTRY_ASSIGN_OR_RETURN(nl::RouteSocket host, nl::RouteSocket::open());

  Allocation a;
  a.pod = pod_id;
  a.netns_path = netns_path;
  a.netns_inode = st.st_ino;
  a.veth = "gveth" + random_hex(4);
  uint32_t bridge_index = 0;
  {
    GANTRY_ASSIGN_OR_RETURN(FileLock lock, ipam.lock());
    GANTRY_ASSIGN_OR_RETURN(bridge_index, ensure_bridge(host, root, config, subnet));
    GANTRY_TRY(write_file_atomic(join_path(ipam.dir(), "network.json"),
                                 config_json(config).dump(2) + "\n"));
    GANTRY_ASSIGN_OR_RETURN(a, ipam.allocate_locked(std::move(a)));
  }
  uint32_t address = *parse_ipv4(a.address);

  Status plugged = [&]() -> Status {
    auto veth = nl::new_veth(a.veth, bridge_index, kPodInterface, netns.get());
    GANTRY_TRY(host.execute(veth, "create veth pair '" + a.veth + "'"));
    GANTRY_ASSIGN_OR_RETURN(nl::LinkInfo host_end, host.link(a.veth));
    auto up = nl::set_link_up(host_end.index);
    GANTRY_TRY(host.execute(up, "bring '" + a.veth + "' up"));
    return configure_pod_side(pod_socket, subnet, address);
  }();
  if (!plugged.ok()) {
    (void)delete_link(host, a.veth);
    (void)ipam.release(a.address);
    return std::move(plugged).error().with_context("attach pod '" + pod_id + "' to bridge '" +
                                                   config.name + "'");
  }
  logger("agent")->info("pod attached pod={} bridge={} address={} veth={}", pod_id, config.name,
                        a.address, a.veth);
  return BridgeAttachment{config.name, a.address, format_ipv4(subnet.gateway()),
                          subnet.prefix_len, a.veth};
}

Status detach_from_bridge(const std::string& root, const std::string& pod_id) {
  GANTRY_ASSIGN_OR_RETURN(std::vector<BridgeConfig> networks, known_networks(root));
  std::optional<nl::RouteSocket> host;
  for (const auto& c : networks) {
    GANTRY_ASSIGN_OR_RETURN(Ipam ipam, open_ipam(root, c));
    GANTRY_ASSIGN_OR_RETURN(std::vector<Allocation> all, ipam.list());
    for (const auto& a : all) {
      if (a.pod != pod_id) continue;
      if (!host) {
        GANTRY_ASSIGN_OR_RETURN(nl::RouteSocket s, nl::RouteSocket::open());
        host.emplace(std::move(s));
      }
      if (!a.veth.empty()) GANTRY_TRY(delete_link(*host, a.veth));
      GANTRY_TRY(ipam.release(a.address));
      logger("agent")->info("pod detached pod={} bridge={} address={}", pod_id, c.name, a.address);
    }
  }
  return ok_status();
}

Result<std::vector<BridgeNetworkInfo>> list_bridge_networks(const std::string& root) {
  GANTRY_ASSIGN_OR_RETURN(std::vector<BridgeConfig> networks, known_networks(root));
  GANTRY_ASSIGN_OR_RETURN(nl::RouteSocket host, nl::RouteSocket::open());
  std::vector<BridgeNetworkInfo> out;
  for (const auto& c : networks) {
    GANTRY_ASSIGN_OR_RETURN(Ipam ipam, open_ipam(root, c));
    BridgeNetworkInfo info;
    info.config = c;
    {
      GANTRY_ASSIGN_OR_RETURN(FileLock lock, ipam.lock());
      GANTRY_TRY(ipam.reclaim_locked());
      GANTRY_ASSIGN_OR_RETURN(info.allocations, ipam.list());
    }
    info.bridge_present = host.link(c.name).ok();
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::vector<std::string>> prune_bridge_networks(const std::string& root) {
  GANTRY_ASSIGN_OR_RETURN(std::vector<BridgeConfig> networks, known_networks(root));
  std::vector<std::string> removed;
  if (networks.empty()) return removed;
  GANTRY_ASSIGN_OR_RETURN(nl::RouteSocket host, nl::RouteSocket::open());
  for (const auto& c : networks) {
    GANTRY_ASSIGN_OR_RETURN(Ipam ipam, open_ipam(root, c));
    GANTRY_ASSIGN_OR_RETURN(FileLock lock, ipam.lock());
    GANTRY_TRY(ipam.reclaim_locked());
    GANTRY_ASSIGN_OR_RETURN(std::vector<Allocation> live, ipam.list());
    if (!live.empty()) continue;
    // Only a bridge this root made: another root's bridge of the same name is left alone.
    auto link = host.link(c.name);
    bool ours = link.ok() && link->kind == "bridge" && link->alias == owner_alias(root);
    if (ours || !link.ok()) {
      if (ours) GANTRY_TRY(delete_link(host, c.name));
      GANTRY_TRY(apply_nft(render_delete_table(c.nft_table),
                           "remove nat table '" + c.nft_table + "'"));
    }
    GANTRY_TRY(ipam.remove_locked());
    logger("agent")->info("network removed bridge={} subnet={}", c.name, c.subnet);
    removed.push_back(c.name);
  }
  return removed;
}

}  // namespace gantry::agent
