// CgroupV1Manager: one container's cgroup on a cgroup v1 host — a directory of the same path in
// each hierarchy it is given (the launcher gives the ones v1_hierarchies_to_join() picks; a
// manager for an existing container is given all and works on those where the cgroup exists).
// cpuset dirs get cpus/mems copied from the parent chain; devices get allow/deny rules;
// kill_all(SIGKILL) freezes with the freezer first; OOM kills come from memory.oom_control. On
// hybrid hosts it also tracks the process in the cgroup2 mount. Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "runtime/cgroups/cgroup_fs.h"
#include "runtime/cgroups/detect.h"
#include "runtime/cgroups/manager.h"
#include "runtime/cgroups/resources.h"

namespace gantry::runtime {

class CgroupV1Manager : public CgroupManager {
 public:
  // `hierarchies`: the mounted v1 hierarchies (CgroupLayout::v1); `path`: the cgroup in each
  // ("/gantry/job-42", checked by validate_cgroup_path()); `unified_mount`: a cgroup2 mount to
  // track the process in too ("" for none). `fs` (nullptr: linux_cgroup_fs()) must outlive it.
  CgroupV1Manager(std::vector<CgroupV1Hierarchy> hierarchies, std::string path,
                  std::string unified_mount = "", CgroupFs* fs = nullptr);

  CgroupVersion version() const override { return CgroupVersion::kV1; }
  const std::string& path() const override { return path_; }
  Status create(const Resources& resources) override;
  Status update(const Resources& resources) override;
  Status add_process(pid_t pid) override;
  Result<std::vector<pid_t>> pids() override;
  Status kill_all(int signal) override;
  Status freeze() override;
  Status thaw() override;
  Result<CgroupUsage> usage() override;
  Status destroy() override;
  std::vector<std::string> host_paths() const override;

 private:
  // This cgroup's directory in the hierarchy with `controller`, or "" when none has it.
  std::string dir_for(const std::string& controller) const;
  // Every directory of this cgroup: one per hierarchy, then the unified one.
  std::vector<std::string> all_dirs() const;
  // Those of all_dirs() that exist: a manager made from the host's layout (kill, delete, exec
  // of a running container) finds the hierarchies the container joined this way.
  std::vector<std::string> existing_dirs() const;
  Status apply(const std::vector<CgroupWrite>& writes);
  Status check_exists() const;
  Status signal_each(int signal);
  Status set_freezer_state(const char* state);

  std::vector<CgroupV1Hierarchy> hierarchies_;
  std::string path_;
  std::string unified_mount_;
  CgroupFs* fs_;
};

// PURE: the hierarchies of `all` that a new container joins: those with freezer (pause, kill
// without races), devices (device rules), memory, cpuacct and pids (limits, usage, OOM), plus
// those with a controller that `writes` set (cpu, cpuset, blkio, ... only when limited). In
// the others (and in a hybrid host's cgroup2 mount) it stays in its runtime's cgroup: each
// hierarchy joined costs a mkdir, a cgroup.procs write, a bind mount and an rmdir per container.
std::vector<CgroupV1Hierarchy> v1_hierarchies_to_join(const std::vector<CgroupV1Hierarchy>& all,
                                                      const std::vector<CgroupWrite>& writes);

// Reorders the memory writes of an update: when the new memory limit is above the current
// memory+swap limit (or memory+swap becomes unlimited), memsw must be raised first, since the
// kernel keeps memsw >= limit at every step. `current_memsw` is memory.memsw.limit_in_bytes.
std::vector<CgroupWrite> order_v1_memory_writes(std::vector<CgroupWrite> writes,
                                                uint64_t current_memsw);

}  // namespace gantry::runtime
