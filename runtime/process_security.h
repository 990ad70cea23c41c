// ProcessSecurity: the launcher's one seam to the process security pieces (capabilities,
// rlimits, no_new_privs, seccomp). prepare_process_security() runs in the parent before clone
// and precomputes everything; the apply_* functions run in the child and only make syscalls
// (no allocation, no exceptions, no logging): they return 0 or an errno and say which entry
// failed through `index`. Order in the child (see runtime/init.cc): rlimits → keep caps →
// setgroups/setgid/setuid → caps → no_new_privs → seccomp last, right before execve.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "common/result.h"
#include "runtime/container_spec.h"

namespace gantry::runtime {

struct ProcessSecurity {
  // Capability sets as bitmasks over capability numbers (bit n = capability n).
  uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
  int last_cap = 40;  // highest capability the running kernel knows
  struct Limit {
    int resource;
    struct rlimit value;
  };
  std::vector<Limit> rlimits;
  bool no_new_privileges = false;
  std::vector<uint8_t> seccomp_bpf;  // a struct sock_filter array; empty: no filter
  unsigned int seccomp_flags = 0;    // SECCOMP_FILTER_FLAG_*
};

// Parses capability and rlimit names and compiles seccomp. Errors name the field:
// "process.capabilities.bounding[3]: unknown capability 'CAP_FOO'".
Result<ProcessSecurity> prepare_process_security(const Process& process,
                                                 const std::optional<Seccomp>& seccomp);

// Child side. Each returns 0 or an errno.
int apply_rlimits(const ProcessSecurity& sec, int* index);
// Drops the bounding set and sets PR_SET_KEEPCAPS so a following setuid keeps permitted caps.
int prepare_caps_for_user_switch(const ProcessSecurity& sec);
// capset() of effective/permitted/inheritable, then the ambient set; clears KEEPCAPS.
int apply_caps(const ProcessSecurity& sec);
int apply_no_new_privs(const ProcessSecurity& sec);
int apply_seccomp(const ProcessSecurity& sec);

}  // namespace gantry::runtime
