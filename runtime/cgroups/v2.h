// CgroupV2Manager: one container's cgroup in the unified (v2) hierarchy. create() enables the
// controllers it needs in every parent's cgroup.subtree_control; kill_all(SIGKILL) uses
// cgroup.kill when the kernel has it (5.14+), else freeze + kill + thaw; usage() reads cpu.stat,
// memory.peak (5.19+) and memory.events. Device rules become a BPF device program
// (device_filter.h) attached to the cgroup at create().
// Also used on hybrid hosts for a cgroup2 mount without controllers. Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "runtime/cgroups/cgroup_fs.h"
#include "runtime/cgroups/manager.h"
#include "runtime/cgroups/resources.h"

namespace gantry::runtime {

class CgroupV2Manager : public CgroupManager {
 public:
  // `mount`: where cgroup2 is mounted ("/sys/fs/cgroup"); `path`: the cgroup below it
  // ("/gantry/job-42", checked by validate_cgroup_path()). `fs` (nullptr: linux_cgroup_fs())
  // must outlive the manager.
  CgroupV2Manager(std::string mount, std::string path, CgroupFs* fs = nullptr);

  CgroupVersion version() const override { return CgroupVersion::kV2; }
  const std::string& path() const override { return path_; }
  Status create(const Resources& resources) override;
  Status update(const Resources& resources) override;
  Status add_process(pid_t pid) override;
  UniqueFd open_clone_target() const override;
  Result<std::vector<pid_t>> pids() override;
  Status kill_all(int signal) override;
  Status freeze() override;
  Status thaw() override;
  Result<CgroupUsage> usage() override;
  Status destroy() override;
  std::vector<std::string> host_paths() const override { return {dir_}; }

  // The controllers create() enables when the host has them, even when no limit needs them,
  // so that usage() can read memory and pids numbers.
  static const std::vector<std::string>& default_controllers();

 private:
  Status check_exists() const;
  // The controllers `writes` need; kFailedPrecondition naming the file when the host lacks one.
  Result<std::vector<std::string>> required_controllers(const std::vector<CgroupWrite>& writes);
  Status apply(const std::vector<CgroupWrite>& writes);
  // Enables `controllers` in `dir`'s cgroup.subtree_control; the `required` ones must work.
  Status enable_controllers(const std::string& dir, const std::vector<std::string>& wanted,
                            const std::vector<std::string>& required);
  Status signal_each(int signal);

  std::string mount_;
  std::string path_;
  std::string dir_;
  CgroupFs* fs_;
};

}  // namespace gantry::runtime
