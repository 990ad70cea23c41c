// Exec into a running container (`gantry runtime exec`, job services' health checks): a new
// process joins every namespace of the container's init and its cgroup, then is set up as the
// init's process is — user, groups, cwd, env, rlimits, capabilities, no_new_privs, seccomp —
// and execs. Runs in the single-threaded `gantry runtime` process (it setns()es the caller's
// pid namespace around fork and back). Errors name the step, like the launcher's.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/result.h"
#include "runtime/cgroups/manager.h"
#include "runtime/container_spec.h"

namespace gantry::runtime {

struct ExecRequest {
  pid_t init_pid = -1;              // host pid of the container's init
  Process process;                  // args, env, cwd, user, capabilities, rlimits, NNP, terminal
  std::optional<Seccomp> seccomp;   // usually the container's own profile
  std::string seccomp_cache_dir;    // compiled filters (seccomp/cache.h); "": compile it
  CgroupManager* cgroup = nullptr;  // the container's cgroup to join (null: stay in ours)
  std::string console_socket;       // process.terminal: the pty master goes there
  int stdin_fd = 0;
  int stdout_fd = 1;
  int stderr_fd = 2;
};

// Starts the process; returns its host pid once it has exec'd (a failure before exec is an
// Error naming the step, with the process reaped). The caller waits for it.
Result<pid_t> spawn_in_container(const ExecRequest& request);

// Waits for a process spawn_in_container() started: its exit code, or 128+N for signal N.
Result<int> wait_spawned(pid_t pid);

// spawn_in_container() then waits: the exit code, or 128+N when signal N ended it.
Result<int> exec_in_container(const ExecRequest& request);

}  // namespace gantry::runtime
