// IPAM for bridge networks: which IPv4 address of a subnet each pod network holds. PURE subnet
// arithmetic (Ipv4Subnet, next_free_address) and an on-disk allocator that keeps one file per
// address under the state root, changed only under the network's flock, so concurrent `gantry`
// processes never hand out one address twice. An allocation whose network namespace is gone
// (a crashed run) is reclaimed by the next allocate(). Thread-safe: changes happen under the
// lock (release is one unlink, atomic by itself).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_lock.h"
#include "common/result.h"

namespace gantry::agent {

// Addresses in host byte order.
Result<uint32_t> parse_ipv4(std::string_view text);  // dotted quad; kInvalidArgument otherwise
std::string format_ipv4(uint32_t address);

struct Ipv4Subnet {
  uint32_t network = 0;
  uint8_t prefix_len = 0;

  // "10.89.0.0/16": the host bits must be zero, the prefix 8..30 (room for a gateway and at
  // least one pod). kInvalidArgument naming the text otherwise.
  static Result<Ipv4Subnet> parse(std::string_view cidr);
  uint32_t mask() const;
  uint32_t broadcast() const;
  uint32_t gateway() const { return network + 1; }  // the bridge's own address, as Docker's
  uint32_t first_host() const { return network + 2; }
  uint32_t last_host() const { return broadcast() - 1; }
  bool contains(uint32_t address) const;
  bool overlaps(const Ipv4Subnet& other) const;
  std::string to_string() const;  // "10.89.0.0/16"
};

// The first address after `last` (wrapping from last_host() to first_host()) that is not in
// `used`, so a just-released address is not handed out again at once. nullopt when all are used.
std::optional<uint32_t> next_free_address(const Ipv4Subnet& subnet, const std::set<uint32_t>& used,
                                          uint32_t last);

// One address held by one pod network.
struct Allocation {
  std::string address;     // dotted quad
  std::string pod;         // the pod network's id
  std::string netns_path;  // <root>/netns/<pod>
  uint64_t netns_inode = 0;  // the namespace's inode when allocated: a new pod at the same path
                             // does not keep an old allocation alive
  std::string veth;        // the host end of the pod's veth pair
};

// Whether an allocation's pod still exists. The default checks that `netns_path` is still the
// namespace it was (same inode on nsfs).
using LivenessCheck = std::function<bool(const Allocation&)>;
bool netns_alive(const Allocation& a);

// On disk, per network, under the state root:
//   <root>/networks/<name>.lock        flock taken by every change (and by the bridge set-up)
//   <root>/networks/<name>/
//     ├── network.json                 the bridge's config (agent/bridge_network.h writes it)
//     ├── subnet                       "10.89.0.0/16", fixed when the network is first opened
//     ├── last                         the address allocated last (round robin)
//     └── addresses/<a.b.c.d>          one Allocation (JSON) per address in use
class Ipam {
 public:
  // Opens (making the directories of) network `name` for `subnet`. kFailedPrecondition if the
  // network was first used with another subnet (checked again by every allocation).
  static Result<Ipam> open(const std::string& root, const std::string& name,
                           const Ipv4Subnet& subnet, LivenessCheck alive = netns_alive);

  // Takes the network's lock: the caller holds it across several steps (the bridge set-up,
  // then allocate_locked()).
  Result<FileLock> lock() const;

  // Reclaims dead allocations, then records `request` (its address field is filled in) at a
  // free address. kResourceExhausted when the subnet is full. Caller holds lock().
  Result<Allocation> allocate_locked(Allocation request);
  // lock() + allocate_locked().
  Result<Allocation> allocate(Allocation request);

  // Releases `address`. Idempotent.
  Status release(const std::string& address);

  // Every recorded allocation, dead or alive, in address order.
  Result<std::vector<Allocation>> list() const;
  // Removes the allocations whose pod is gone; returns them. Caller holds lock().
  Result<std::vector<Allocation>> reclaim_locked();

  // Removes the network's directory (the lock file stays: a waiter may hold it open). Caller
  // holds lock(); the next allocation makes the network afresh.
  Status remove_locked();

  const std::string& dir() const { return dir_; }
  const Ipv4Subnet& subnet() const { return subnet_; }

 private:
  Ipam(std::string name, std::string lock_path, std::string dir, Ipv4Subnet subnet,
       LivenessCheck alive)
      : name_(std::move(name)), lock_path_(std::move(lock_path)), dir_(std::move(dir)),
        subnet_(subnet), alive_(std::move(alive)) {}
  // Makes the directories and records or checks the subnet.
  Status prepare_locked();

  std::string name_;
  std::string lock_path_;
  std::string dir_;
  Ipv4Subnet subnet_;
  LivenessCheck alive_;
};

}  // namespace gantry::agent
