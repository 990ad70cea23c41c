// Cgroup resource planning, PURE: OCI linux.resources (runtime::Resources) → the ordered list
// of control-file writes for cgroup v1 or v2, including the v2 conversions (shares → weight,
// quota/period → cpu.max, memory+swap → memory.swap.max). The managers (v1.h, v2.h) apply the
// plan; keeping the arithmetic here lets it be tested without root. Invalid input is an error
// naming the OCI field. Thread-compatible, no state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "runtime/container_spec.h"

namespace gantry::runtime {

struct CgroupWrite {
  std::string controller;  // "memory", "cpu", ...: picks the v1 hierarchy / v2 controller
  std::string file;        // "memory.limit_in_bytes", "memory.max", ...
  std::string value;
  // Skip the write when the file is missing: set for swap values that ask for no swap limit
  // beyond memory's, so hosts with swap accounting off (no memsw / swap.max files) still run.
  bool skip_if_missing = false;

  bool operator==(const CgroupWrite&) const = default;
};

// The device rules every container gets after its own (as runc does): mknod of any char or
// block device, and rwm on null, zero, full, random, urandom, tty, console, ptmx, pts/* and
// net/tun.
const std::vector<DeviceRule>& standard_device_rules();

// `rules` followed by standard_device_rules(): what the cgroup must enforce.
std::vector<DeviceRule> effective_device_rules(const std::vector<DeviceRule>& rules);

// True when `rules` ask for nothing beyond what a cgroup without device control gives anyway:
// no rules, a deny-all (optionally followed by standard allows only), or an allow-all. The v1
// manager accepts only such rules when the host has no devices hierarchy.
bool device_rules_need_no_filter(const std::vector<DeviceRule>& rules);

// "c 1:3 rwm", "a *:* rwm": the v1 devices.allow/devices.deny line of a rule. kInvalidArgument
// for a bad type or access string.
Result<std::string> device_rule_line(const DeviceRule& rule);

// Writes for cgroup v1, in the order to apply them on a new cgroup. Device rules go to
// "devices.deny"/"devices.allow" (standard rules appended). kInvalidArgument naming the field
// for bad values (swap below memory, quota below 1ms, ...), and for `unified` entries, which
// only v2 has.
Result<std::vector<CgroupWrite>> plan_v1_writes(const Resources& resources);

// Writes for cgroup v2. `unified` entries are applied last and win over a converted value for
// the same file. Device rules are not files on v2: CgroupV2Manager attaches them as a BPF
// program (device_filter.h). kInvalidArgument naming the field for bad values.
Result<std::vector<CgroupWrite>> plan_v2_writes(const Resources& resources);

// cpu.weight for v1 cpu.shares: 1 + ((shares - 2) * 9999) / 262142, shares clamped to
// [2, 262144].
uint64_t cpu_shares_to_weight(uint64_t shares);

}  // namespace gantry::runtime
