// Pod networks: one network namespace shared by a job's container and its service containers
// (as a Kubernetes pod), kept alive by a bind mount at <root>/netns/<id> so containers join it
// by path (ContainerNetwork::Mode::kJoin). Loopback mode: `lo` only, so services are reached at
// 127.0.0.1 under their aliases. Bridge mode: also `eth0` on a Gantry bridge with its own
// address and NAT to the outside (agent/bridge_network.h); every member of the pod shares it.
// The namespace is made in a short-lived thread of its own (unshare(CLONE_NEWNET) changes only
// that thread). Thread-safe; ids must be unique.
#pragma once

#include <string>

#include "agent/bridge_network.h"
#include "common/result.h"

namespace gantry::agent {

enum class PodNetworkMode {
  kLoopback,  // `lo` only
  kBridge,    // `lo` and `eth0` on a bridge
};

struct PodNetworkOptions {
  PodNetworkMode mode = PodNetworkMode::kLoopback;
  BridgeConfig bridge;  // kBridge: which bridge network
};

struct PodNetwork {
  std::string id;
  std::string netns_path;  // <root>/netns/<id>: a bind mount of the namespace
  // Where the pod's members reach each other and where /etc/hosts points the pod's own name:
  // "127.0.0.1" in loopback mode, the eth0 address ("10.89.0.2") in bridge mode.
  std::string address;
  std::string gateway;  // bridge mode: the bridge's address (the host, as the pod sees it)
  std::string bridge;   // bridge mode: the bridge's name
};

// Makes the namespace with `lo` up (and, in bridge mode, `eth0` attached to the bridge).
// kAlreadyExists if <root>/netns/<id> exists; kInvalidArgument for an id that is not a file
// name or a bad bridge config. Nothing is left behind on error.
Result<PodNetwork> create_pod_network(const std::string& root, const std::string& id,
                                      const PodNetworkOptions& options);
// Loopback mode.
Result<PodNetwork> create_pod_network(const std::string& root, const std::string& id);

// Detaches the pod from its bridge (its veth removed, its address released), then unmounts and
// removes <root>/netns/<id>. Idempotent: a missing one is fine. The namespace itself goes away
// when its last member exits.
Status destroy_pod_network(const std::string& root, const std::string& id);

}  // namespace gantry::agent
