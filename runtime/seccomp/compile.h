// Seccomp compilation: a validated SeccompProfile -> a classic-BPF program for
// seccomp(SECCOMP_SET_MODE_FILTER), built in the parent before clone so that the child only
// loads bytes (seccomp/apply.h). The only file that includes libseccomp. Pure apart from a
// memfd used to read the program back; thread-compatible (each call has its own context).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "runtime/container_spec.h"
#include "runtime/seccomp/profile.h"

namespace gantry::runtime {

struct CompiledSeccomp {
  std::vector<sock_filter> program;  // the BPF instructions, as the kernel takes them
  uint32_t flags = 0;                // kSeccompFlag* bits, passed to seccomp(2) on load
  // Syscall names this libseccomp does not know, skipped as runc does; the caller may log
  // them. Not read by the child.
  std::vector<std::string> skipped_syscalls;
  // Architectures of the other byte order than this host's: a filter cannot hold both, and no
  // such program can run here. Not read by the child.
  std::vector<std::string> skipped_architectures;
};

// Compiles a validated profile. The native architecture is always in the filter; the
// profile's architectures are added to it. Errors name the rule:
// "linux.seccomp.syscalls[3].names[1]: add rule for 'open': invalid argument".
Result<CompiledSeccomp> compile_seccomp(const SeccompProfile& profile);

// validate_seccomp then compile_seccomp.
Result<CompiledSeccomp> compile_seccomp(const Seccomp& seccomp);

// The libseccomp version this build runs with, "2.5.4", for `gantry version` and errors.
std::string libseccomp_version();

// What besides the profile decides the compiled program: the native architecture,
// libseccomp's version and the API level it found in the kernel. Part of the seccomp cache's
// key (seccomp/cache.h).
std::string seccomp_environment();

}  // namespace gantry::runtime
