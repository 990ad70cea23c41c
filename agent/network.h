// Pod networks: one network namespace shared by a job's container and its service containers
// (as a Kubernetes pod), kept alive by a bind mount at <root>/netns/<id> so containers join it
// by path (ContainerNetwork::Mode::kJoin). Mode none: loopback only, so services are reached
// at 127.0.0.1 under their aliases. The namespace is made in a short-lived thread of its own
// (unshare(CLONE_NEWNET) changes only that thread). Thread-safe; ids must be unique.
#pragma once

#include <string>

#include "common/result.h"

namespace gantry::agent {

struct PodNetwork {
  std::string id;
  std::string netns_path;  // <root>/netns/<id>: a bind mount of the namespace
  std::string address;     // where the pod's members reach each other: "127.0.0.1"
};

// Makes the namespace with `lo` up. kAlreadyExists if <root>/netns/<id> exists;
// kInvalidArgument for an id that is not a file name. Nothing is left behind on error.
Result<PodNetwork> create_pod_network(const std::string& root, const std::string& id);

// Unmounts and removes <root>/netns/<id>. Idempotent: a missing one is fine. The namespace
// itself goes away when its last member exits.
Status destroy_pod_network(const std::string& root, const std::string& id);

}  // namespace gantry::agent
