// Bridge networks, like Docker's default bridge: a Linux bridge (`gantry0`, 10.89.0.1/16) on the
// host, a veth pair per pod network namespace (host end on the bridge, the other end moved into
// the pod as `eth0` with an address from IPAM and a default route via the bridge), IPv4
// forwarding on, and an nftables masquerade rule for traffic leaving the subnet. Links and
// addresses go through rtnetlink (runtime/network/netlink.h). Needs root (CAP_NET_ADMIN) and the
// bridge, veth and nf_tables/nft_masq kernel features. Used by agent/network.cc; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "agent/ipam.h"
#include "common/result.h"
#include "runtime/network/netlink.h"

namespace gantry::agent {

struct BridgeConfig {
  std::string name = "gantry0";         // the bridge link (at most 15 characters)
  std::string subnet = "10.89.0.0/16";  // podman's default is 10.88.0.0/16: keep clear of it
  std::string nft_table = "gantry";     // `table ip <nft_table>` holds the NAT rule
};

// The config a --bridge NAME flag means: the default for "gantry0", else NAME for both the
// bridge and its nft table, with `subnet`.
BridgeConfig bridge_config_for(const std::string& name, const std::string& subnet);

// kInvalidArgument naming the field: a link name of 1-15 letters, digits, '_', '-' or '.',
// a valid subnet, a valid table name.
Status check_bridge_config(const BridgeConfig& config);

// A pod's place on a bridge.
struct BridgeAttachment {
  std::string bridge;
  std::string address;  // the pod's eth0 address
  std::string gateway;  // the bridge's address
  int prefix_len = 0;
  std::string veth;  // the host end
};

// Sets up the bridge if needed (created with the gateway address and up, forwarding on, NAT
// rules applied), takes an address, and plugs the pod's namespace (open at `netns_path`) in:
// a veth pair, `eth0` inside with the address and a default route, configured through
// `pod_socket` (a RouteSocket opened inside the pod's namespace). The bridge's IFLA_IFALIAS
// names the state root that owns it: kFailedPrecondition if another root owns a bridge of that
// name, or if the name is taken by a link that is not a bridge. On error the veth and the
// address are released; the bridge stays.
Result<BridgeAttachment> attach_to_bridge(const std::string& root, const BridgeConfig& config,
                                          const std::string& pod_id,
                                          const std::string& netns_path,
                                          runtime::netlink::RouteSocket& pod_socket);

// Removes pod `pod_id`'s veth and releases its address, on whichever network it is. Idempotent.
Status detach_from_bridge(const std::string& root, const std::string& pod_id);

struct BridgeNetworkInfo {
  BridgeConfig config;
  bool bridge_present = false;  // the link exists now
  std::vector<Allocation> allocations;  // live ones (dead ones are reclaimed on the way)
};

// Every bridge network this state root has used.
Result<std::vector<BridgeNetworkInfo>> list_bridge_networks(const std::string& root);

// For every network of this root without a live pod: deletes the bridge and its nft table and
// forgets the network. Returns the names of the networks removed. Networks in use are kept.
Result<std::vector<std::string>> prune_bridge_networks(const std::string& root);

}  // namespace gantry::agent
