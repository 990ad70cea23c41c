// Linux capabilities for the container process: names <-> numbers, the five sets of
// process.capabilities compiled into bitmasks in the parent, and applied in the child.
// compile_* run in the parent (they allocate and return Results); the apply and switch
// functions run in the child after clone: no allocation, no exceptions, no logging, they
// return 0 or an errno. The order of the child's steps is in runtime/security.h.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "runtime/container_spec.h"

namespace gantry::runtime {

// The highest capability Gantry knows (CAP_CHECKPOINT_RESTORE, Linux 5.9).
inline constexpr int kLastKnownCapability = 40;

// "CAP_CHOWN" -> 0. Exact, upper-case names with the CAP_ prefix, as config.json has them.
std::optional<int> capability_from_name(std::string_view name);

// 0 -> "CAP_CHOWN"; empty for a number Gantry does not know.
std::string_view capability_name(int cap);

// The highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap); if that
// cannot be read, kLastKnownCapability.
int kernel_last_capability();

// The five sets as bitmasks (bit n = capability n), ready for the child.
struct CapabilitySet {
  uint64_t bounding = 0;
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
  uint64_t ambient = 0;
  int last_cap = kLastKnownCapability;  // the bounding set is dropped for 0..last_cap
  // Not read by the child; for the caller to log. `warnings`: capabilities skipped because
  // the kernel does not know them (runc warns too). `ignored`: ambient capabilities dropped
  // because they are not both permitted and inheritable, which runc ignores silently and
  // `runc spec` configs contain (worth a debug line, not a warning).
  std::vector<std::string> warnings;
  std::vector<std::string> ignored;
};

// Compiles process.capabilities. Unknown names are an error naming the set, the index and the
// name: "process.capabilities.bounding[3]: unknown capability 'CAP_FOO'". Skipped with a
// warning, as runc does: names the kernel does not know (number > last_cap), and ambient
// capabilities missing from the permitted or inheritable set (the kernel cannot raise them).
Result<CapabilitySet> compile_capabilities(const Capabilities& caps, int last_cap);
Result<CapabilitySet> compile_capabilities(const Capabilities& caps);  // the running kernel's

// Docker's default set of 14 capabilities ("CAP_CHOWN", ...), in Docker's order.
std::vector<std::string> docker_default_capabilities();

// Capabilities for a container's process by default: Docker's 14 in the bounding, effective
// and permitted sets; inheritable and ambient empty (as runc and Docker do).
Capabilities default_container_capabilities();

// ---- child side ----

// Drops every capability 0..last_cap not in `set.bounding` from the bounding set
// (PR_CAPBSET_DROP). Needs CAP_SETPCAP in the effective set: call before switch_user.
int drop_bounding_set(const CapabilitySet& set) noexcept;

// Sets effective, permitted and inheritable (capset, version 3), then clears the ambient set
// and raises each ambient capability (PR_CAP_AMBIENT). Call after switch_user.
int apply_process_capabilities(const CapabilitySet& set) noexcept;

// drop_bounding_set then apply_process_capabilities, for a process that keeps its uid.
int apply_capabilities(const CapabilitySet& set) noexcept;

// Switches to uid/gid (and the supplementary groups, unless `groups` is null: in a user
// namespace whose setgroups is "deny" the call must be skipped) while keeping the permitted
// capabilities. Order matters:
//   1. PR_SET_KEEPCAPS 1: without it, leaving uid 0 clears the permitted set, and no capset
//      could win the capabilities back.
//   2. setgroups, then setresgid, then setresuid: the gid calls need CAP_SETGID, which the
//      process still has while it is uid 0 with an effective set; after setresuid it does not.
//   3. PR_SET_KEEPCAPS 0, so that a later execve does not keep them by accident.
// Afterwards the effective set is empty (the kernel clears it on leaving uid 0) and the
// ambient set too: apply_process_capabilities must follow. Raw syscalls on purpose: glibc's
// set*id broadcast to every thread, which a freshly cloned child must not rely on.
int switch_user(uid_t uid, gid_t gid, const gid_t* groups, size_t group_count) noexcept;

}  // namespace gantry::runtime
