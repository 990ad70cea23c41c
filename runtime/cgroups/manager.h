// CgroupManager: one container's cgroup, whichever cgroup version the host runs. The launcher
// creates it before the container's process runs, puts the process in it, reads usage when the
// process exits, and kill/delete/timeout use kill_all() so no process escapes — daemonised
// grandchildren included. CgroupV1Manager and CgroupV2Manager implement it (one file each);
// detect.h picks one at run time. Not thread-safe: one owner at a time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "runtime/container_spec.h"

namespace gantry::runtime {

struct CgroupUsage {
  uint64_t cpu_usage_ns = 0;       // user + system CPU time of every process that ran in it
  uint64_t memory_peak_bytes = 0;  // max memory use seen (0 if the kernel does not tell)
  uint64_t oom_kills = 0;          // processes the kernel's OOM killer killed in it
  bool oom_killed() const { return oom_kills > 0; }
  uint64_t pids_current = 0;
};

enum class CgroupVersion { kV1, kV2 };

class CgroupManager {
 public:
  virtual ~CgroupManager() = default;

  virtual CgroupVersion version() const = 0;
  // The cgroup path relative to the hierarchy root(s), e.g. "/gantry/job-42".
  virtual const std::string& path() const = 0;

  // Creates the cgroup (in every v1 hierarchy it needs, or the one v2 tree, enabling the
  // controllers it needs in the parents) and applies `resources`. Fails with kAlreadyExists
  // if the cgroup is there already.
  virtual Status create(const Resources& resources) = 0;
  // Re-applies resources to an existing cgroup (OCI `update`).
  virtual Status update(const Resources& resources) = 0;
  // Moves `pid` into the cgroup.
  virtual Status add_process(pid_t pid) = 0;
  // After create(): a directory fd of the cgroup for clone3(CLONE_INTO_CGROUP), so that the
  // container's init starts in it; an empty fd when the cgroup cannot be entered that way (v1
  // hierarchies) or cannot be opened, and the caller uses add_process().
  virtual UniqueFd open_clone_target() const { return UniqueFd(); }
  // Pids currently in the cgroup (all of its processes, not only the init).
  virtual Result<std::vector<pid_t>> pids() = 0;
  // Sends `signal` to every process in the cgroup. For SIGKILL, freezes first (or uses
  // cgroup.kill on v2) so a forking process cannot race the kill.
  virtual Status kill_all(int signal) = 0;
  virtual Status freeze() = 0;
  virtual Status thaw() = 0;
  virtual Result<CgroupUsage> usage() = 0;
  // SIGKILLs what is left, waits for it to be gone, and removes the cgroup directories.
  // Succeeds when the cgroup does not exist.
  virtual Status destroy() = 0;
  // Host directories of this cgroup (one per v1 hierarchy, one for v2), for mounting the
  // container's /sys/fs/cgroup.
  virtual std::vector<std::string> host_paths() const = 0;
};

}  // namespace gantry::runtime
