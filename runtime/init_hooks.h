// OCI hooks the container's init runs itself: createContainer (in the container's mount
// namespace, before pivot_root) and startContainer (inside the container, just before the
// process execs). The parent turns each Hook into a HookImage before clone; the child forks
// and execs them with the state JSON (a memfd the parent fills after clone) on stdin, kills
// one past its timeout, and reports a failure through init_fail(). prestart and createRuntime
// run in the parent with runtime/hooks.h.
#pragma once

#include <cstddef>
#include <vector>

#include "common/result.h"
#include "runtime/container_spec.h"
#include "runtime/sync.h"

namespace gantry::runtime {

struct HookImage {
  const char* path = nullptr;
  std::vector<char*> argv;   // NULL-terminated; {path} when the hook gives no args
  std::vector<char*> envp;   // NULL-terminated; empty: the runtime's own environment
  int timeout_ms = -1;       // -1: none
};

// Parent side. Pointers go into `hooks`, which must outlive the images.
std::vector<HookImage> make_hook_images(const std::vector<Hook>& hooks);

// Child side: runs `count` hooks in order; the first failure is reported as `step` with the
// hook's index, errno (exec failure, ETIMEDOUT) or exit status, and the child exits.
void run_hooks_in_child(const HookImage* hooks, size_t count, int state_fd, InitStep step);

}  // namespace gantry::runtime
