// ProcessSecurity: the container process's capabilities, rlimits, no_new_privs and seccomp
// filter, compiled in the parent before clone (capabilities.h, rlimits.h, seccomp/compile.h)
// so that the child only applies precomputed data, in the order runtime/security.h gives.
// Plain data, built by the launcher, read by the container init (runtime/init.cc).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "runtime/capabilities.h"
#include "runtime/container_spec.h"
#include "runtime/rlimits.h"
#include "runtime/seccomp/compile.h"

namespace gantry::runtime {

struct ProcessSecurity {
  CapabilitySet caps;
  RlimitSet rlimits;
  bool no_new_privileges = false;
  std::optional<CompiledSeccomp> seccomp;  // empty: no filter
  // What was skipped as runc skips it, for the launcher to log; not read by the child.
  // warnings: capabilities unknown to the kernel, syscalls unknown to libseccomp.
  // ignored: ambient capabilities the kernel cannot raise (runc is silent; a debug line).
  std::vector<std::string> warnings;
  std::vector<std::string> ignored;
};

// Compiles process.capabilities, process.rlimits and linux.seccomp. Errors name the field:
// "process.capabilities.bounding[3]: unknown capability 'CAP_FOO'". With `seccomp_cache_dir`,
// the filter comes from (and goes to) that cache (seccomp/cache.h); a cache problem is a note
// in `ignored`, never an error.
Result<ProcessSecurity> prepare_process_security(const Process& process,
                                                 const std::optional<Seccomp>& seccomp,
                                                 const std::string& seccomp_cache_dir = "");

}  // namespace gantry::runtime
