// The container process's security setup as rt-launch applies it: what runs where and in
// which order. Parse and compile in the parent before clone (capabilities.h, rlimits.h,
// seccomp/compile.h: they return Results); apply in the child right before execve with the
// `apply_*` functions below, which allocate nothing, throw nothing, log nothing and return an
// errno (0 on success) for the child to report over the sync socket.
#pragma once

namespace gantry::runtime {

// The order the child must apply things in, and why:
//
//   1. apply_rlimits            while still root: raising a hard limit needs CAP_SYS_RESOURCE.
//   2. apply_seccomp            here only when process.noNewPrivileges is false: loading a
//                               filter then needs CAP_SYS_ADMIN, which step 4 may drop. As runc
//                               does; the filter then also applies to steps 3-5, which the
//                               default profile allows.
//   3. drop_bounding_set        needs CAP_SETPCAP in the effective set, which setuid clears.
//   4. switch_user              setgroups -> setresgid -> setresuid with PR_SET_KEEPCAPS on, so
//                               the permitted set survives leaving uid 0 (capabilities.h).
//   5. apply_process_capabilities
//                               capset (effective, permitted, inheritable) then the ambient
//                               set; after the uid switch, since setuid clears effective and
//                               ambient. (3 + 5 without a uid switch: apply_capabilities.)
//   6. set_no_new_privs         when process.noNewPrivileges.
//   7. apply_seccomp            with no_new_privs: last, just before execve, so nothing of the
//                               setup itself is filtered.
//   8. execve
//
// Sets PR_SET_NO_NEW_PRIVS: execve can no longer grant privileges (setuid bits, file caps).
// Child side. Returns 0 or errno.
int set_no_new_privs() noexcept;

}  // namespace gantry::runtime
