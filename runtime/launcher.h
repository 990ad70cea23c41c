// Launcher: the parent side of making one container, run inside the single-threaded
// `gantry runtime` process (never fork container setup out of a multi-threaded program).
// It compiles seccomp, creates the cgroup, clones the container's init with its namespaces,
// drives the child through setup over the sync socket (protocol drawn in runtime/sync.h) and
// returns once the child is either waiting on the exec fifo (kCreate: `gantry runtime start`
// releases it) or has exec'd the process (kRun). A child failure comes back as an Error
// naming the step and the path: "pivot_root to '/…/rootfs': invalid argument".
// OCI hooks run at the spec's points: prestart and createRuntime here (in the runtime's
// namespaces, once the container's exist, before pivot_root), createContainer and
// startContainer in the init itself; each gets the state JSON (status "creating", with pid).
// Callers run only poststart (after start) and poststop (after delete) themselves.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/result.h"
#include "runtime/cgroups/manager.h"
#include "runtime/container_spec.h"

namespace gantry::runtime {

struct LaunchRequest {
  enum class Mode {
    kCreate,  // set up everything, then block on `<state_dir>/exec.fifo` until start
    kRun,     // set up everything and exec at once
  };
  std::string id;
  ContainerSpec spec;
  std::string state_dir;  // containers/<id>/: exec.fifo lives here
  std::string seccomp_cache_dir;  // compiled filters (seccomp/cache.h); "": compile every time
  Mode mode = Mode::kRun;
  std::string console_socket;  // AF_UNIX path; the pty master goes there (process.terminal)
  int stdin_fd = 0;
  int stdout_fd = 1;
  int stderr_fd = 2;
};

struct LaunchedContainer {
  pid_t pid = -1;  // host pid of the container's init
  std::unique_ptr<CgroupManager> cgroup;
};

// Makes the container. On error nothing is left behind: the child is killed and reaped, the
// cgroup removed, mounts made on the host side undone.
Result<LaunchedContainer> launch_container(const LaunchRequest& request);

// Releases a container created with Mode::kCreate: opens its exec fifo so its init execs, then
// removes the fifo (its absence marks the container as started). With `init_pid`, returns
// kFailedPrecondition instead of waiting when that init has exited; kFailedPrecondition too
// when the fifo is gone (started already).
Status start_container(const std::string& state_dir, pid_t init_pid = -1);

}  // namespace gantry::runtime
