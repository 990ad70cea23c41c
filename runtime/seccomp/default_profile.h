// Gantry's built-in seccomp profile: what a container gets when its spec names none. As strict
// as Docker's default: every syscall not listed fails with EPERM; the list allows what
// ordinary programs use and leaves out what reaches the kernel's global state (modules, keys,
// mounts, namespaces, clocks, swap, reboot, BPF, perf, userfaultfd, open_by_handle_at, ...).
// Used by rt-oci (`gantry runtime spec`) and by Gantry's own callers. Pure; thread-safe.
#pragma once

#include <cstdint>

#include "runtime/container_spec.h"

namespace gantry::runtime {

// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
// CLONE_NEWNET: clone(2) is allowed only when none of these flags is set.
inline constexpr uint64_t kCloneNamespaceFlags = 0x7E020000;

// The profile for the architecture Gantry was built for: x86_64 also covers x86 and x32,
// aarch64 also covers arm. clone3 fails with ENOSYS (its flags sit in memory, out of a
// filter's reach, so libc falls back to clone, whose flags the filter checks); personality is
// allowed only for the harmless personas (PER_LINUX, PER_LINUX32, UNAME26 and the query).
Seccomp default_seccomp_profile();

}  // namespace gantry::runtime
