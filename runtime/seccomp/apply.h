// Loading a precompiled seccomp filter (seccomp/compile.h) into the calling process: the
// child's last step before execve (order in runtime/security.h). No allocation, no
// exceptions, no logging; returns 0 or an errno. The kernel demands no_new_privs or
// CAP_SYS_ADMIN first (EACCES otherwise).
#pragma once

#include "runtime/seccomp/compile.h"

namespace gantry::runtime {

// seccomp(SECCOMP_SET_MODE_FILTER, flags, &program); on a kernel without the seccomp syscall
// (before 3.17), prctl(PR_SET_SECCOMP) when no flags are asked for. An empty program is a
// no-op. `compiled` must outlive the call only (the kernel copies the program).
int apply_seccomp(const CompiledSeccomp& compiled) noexcept;

}  // namespace gantry::runtime
