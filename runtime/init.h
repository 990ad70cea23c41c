// The child side of container creation: what the container's init does between clone() and
// execve(), following a LaunchPlan the parent computed (protocol in runtime/sync.h). Runs in
// the freshly cloned process only: no allocation beyond the stack, no exceptions, no logging.
// Every failure goes through init_fail(), which reports {step, errno, index, path} to the
// parent and _exit()s.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>

#include "runtime/launch_plan.h"
#include "runtime/process_security.h"
#include "runtime/sync.h"

namespace gantry::runtime {

// Everything the child reads, prepared by the parent before clone; pointers stay valid in the
// child's copy of the parent's memory.
struct InitArgs {
  const LaunchPlan* plan = nullptr;
  const ProcessSecurity* security = nullptr;
  int sync_fd = -1;
  int fifo_fd = -1;     // O_PATH fd of exec.fifo (create mode), else -1
  int console_fd = -1;  // connected console socket (process.terminal), else -1
  bool terminal = false;
  unsigned short console_rows = 0, console_cols = 0;
  bool init_reaper = false;
  int stdio[3] = {0, 1, 2};
  char* const* argv = nullptr;  // NULL-terminated
  char* const* envp = nullptr;  // NULL-terminated
  const char* path_env = nullptr;  // PATH for finding argv[0] when it has no '/'
  const char* cwd = "/";
  uid_t uid = 0;
  gid_t gid = 0;
  const gid_t* additional_gids = nullptr;
  size_t additional_gid_count = 0;
  mode_t umask = 022;
  // OCI hooks the init runs itself, with the state JSON in `hook_state_fd` on stdin.
  const struct HookImage* create_container_hooks = nullptr;
  size_t create_container_hook_count = 0;
  const struct HookImage* start_container_hooks = nullptr;
  size_t start_container_hook_count = 0;
  bool runtime_hooks = false;  // stop before pivot_root for the parent's prestart/createRuntime
  int hook_state_fd = -1;
};

// The container init's main. Never returns.
[[noreturn]] void run_init(const InitArgs& args);

// The child side of exec into a running container (runtime/exec.h): after the parent's kGo,
// joins the namespaces `ns_fds` (setns with `ns_flags`, in order), then sets up the process
// exactly as the init does (user, caps, rlimits, seccomp, ...) and execs. Never returns.
[[noreturn]] void run_exec_child(const InitArgs& args, const int* ns_fds, const int* ns_flags,
                                 size_t ns_count);

// Parent side: the Error for a child's kError report, naming the step and the path:
// "mount 'proc' at '/…/rootfs/proc': permission denied". `plan` may be null (exec).
Error init_error(const SyncMessage& m, const LaunchPlan* plan, const ProcessSecurity& security);

// Reports a failed step to the parent and exits. `path` may be null.
[[noreturn]] void init_fail(InitStep step, int err, int index = -1, const char* path = nullptr,
                            int status = 0);

}  // namespace gantry::runtime
