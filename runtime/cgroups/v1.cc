#include "runtime/cgroups/v1.h"

#include <signal.h>

#include <algorithm>
#include <set>

#include "common/file.h"
#include "common/strings.h"
#include "runtime/cgroups/stats.h"
#include "runtime/cgroups/tree.h"

namespace gantry::runtime {

namespace {

// The first directory in `dirs` that exists, or "".
std::string first_existing(CgroupFs& fs, const std::vector<std::string>& dirs) {
  for (const auto& d : dirs)
    if (fs.exists(d)) return d;
  return "";
}

}  // namespace

std::vector<CgroupWrite> order_v1_memory_writes(std::vector<CgroupWrite> writes,
                                                uint64_t current_memsw) {
  auto limit = std::find_if(writes.begin(), writes.end(),
                            [](const auto& w) { return w.file == "memory.limit_in_bytes"; });
  auto memsw = std::find_if(writes.begin(), writes.end(),
                            [](const auto& w) { return w.file == "memory.memsw.limit_in_bytes"; });
  if (limit == writes.end() || memsw == writes.end() || memsw < limit) return writes;
  bool raise_memsw_first = memsw->value == "-1";
  if (!raise_memsw_first && limit->value != "-1") {
    raise_memsw_first = std::stoull(limit->value) > current_memsw;
  } else if (limit->value == "-1") {
    raise_memsw_first = true;
  }
  if (raise_memsw_first) std::iter_swap(limit, memsw);
  return writes;
}

std::vector<CgroupV1Hierarchy> v1_hierarchies_to_join(const std::vector<CgroupV1Hierarchy>& all,
                                                      const std::vector<CgroupWrite>& writes) {
  static const char* const kAlways[] = {"freezer", "devices", "memory", "cpuacct", "pids"};
  std::vector<CgroupV1Hierarchy> out;
  for (const auto& h : all) {
    bool join = false;
    for (const char* c : kAlways) join = join || h.has(c);
    for (const auto& w : writes) join = join || h.has(w.controller);
    if (join) out.push_back(h);
  }
  return out;
}

CgroupV1Manager::CgroupV1Manager(std::vector<CgroupV1Hierarchy> hierarchies, std::string path,
                                 std::string unified_mount, CgroupFs* fs)
    : hierarchies_(std::move(hierarchies)),
      path_(std::move(path)),
      unified_mount_(std::move(unified_mount)),
      fs_(fs ? fs : &linux_cgroup_fs()) {}

std::string CgroupV1Manager::dir_for(const std::string& controller) const {
  for (const auto& h : hierarchies_)
    if (h.has(controller)) return join_path(h.mount_point, path_);
  return "";
}

std::vector<std::string> CgroupV1Manager::all_dirs() const {
  std::vector<std::string> dirs;
  for (const auto& h : hierarchies_) dirs.push_back(join_path(h.mount_point, path_));
  if (!unified_mount_.empty()) dirs.push_back(join_path(unified_mount_, path_));
  return dirs;
}

std::vector<std::string> CgroupV1Manager::existing_dirs() const {
  std::vector<std::string> dirs = all_dirs();
  std::erase_if(dirs, [&](const std::string& d) { return !fs_->exists(d); });
  return dirs;
}

std::vector<std::string> CgroupV1Manager::host_paths() const { return all_dirs(); }

Status CgroupV1Manager::check_exists() const {
  if (first_existing(*fs_, all_dirs()).empty())
    return Error(ErrorCode::kNotFound, "cgroup '" + path_ + "' does not exist");
  return ok_status();
}

Status CgroupV1Manager::apply(const std::vector<CgroupWrite>& writes) {
  for (const auto& w : writes) {
    std::string dir = dir_for(w.controller);
    if (dir.empty()) {
      return Error(ErrorCode::kFailedPrecondition, "set '" + w.file + "': cgroup v1 controller '" +
                                                       w.controller + "' is not mounted");
    }
    if (w.skip_if_missing && !fs_->exists(join_path(dir, w.file))) continue;
    GANTRY_TRY(fs_->write(dir, w.file, w.value));
  }
  return ok_status();
}

Status CgroupV1Manager::create(const Resources& resources) {
  GANTRY_ASSIGN_OR_RETURN(std::vector<CgroupWrite> writes, plan_v1_writes(resources));
  if (dir_for("devices").empty()) {
    // No devices hierarchy: fine as long as nothing beyond the usual is asked for.
    if (!device_rules_need_no_filter(resources.devices)) {
      return Error(ErrorCode::kFailedPrecondition,
                   "linux.resources.devices: the cgroup v1 'devices' controller is not mounted");
    }
    std::erase_if(writes, [](const auto& w) { return w.controller == "devices"; });
  }
  for (const auto& w : writes) {
    if (dir_for(w.controller).empty())
      return Error(ErrorCode::kFailedPrecondition, "set '" + w.file + "': cgroup v1 controller '" +
                                                       w.controller + "' is not mounted");
  }
  for (const auto& dir : all_dirs()) {
    if (fs_->exists(dir))
      return Error(ErrorCode::kAlreadyExists, "cgroup '" + dir + "' exists already");
  }

  std::vector<std::string> made;
  auto fail = [&](Error e) -> Status {
    for (auto it = made.rbegin(); it != made.rend(); ++it) (void)fs_->rmdir(*it);
    for (const auto& h : hierarchies_) remove_empty_gantry_parents(*fs_, h.mount_point, path_);
    if (!unified_mount_.empty()) remove_empty_gantry_parents(*fs_, unified_mount_, path_);
    return e;
  };
  // cpuset refuses tasks until cpus and mems are set, and a new cpuset starts empty.
  auto copy_cpuset = [&](const std::string& parent, const std::string& dir) -> Status {
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      GANTRY_ASSIGN_OR_RETURN(std::string mine, fs_->read(dir, file));
      if (!trim(mine).empty()) continue;
      GANTRY_ASSIGN_OR_RETURN(std::string from_parent, fs_->read(parent, file));
      GANTRY_TRY(fs_->write(dir, file, std::string(trim(from_parent))));
    }
    return ok_status();
  };
  std::vector<std::string> mounts;
  for (const auto& h : hierarchies_) mounts.push_back(h.mount_point);
  if (!unified_mount_.empty()) mounts.push_back(unified_mount_);
  for (size_t i = 0; i < mounts.size(); ++i) {
    bool cpuset = i < hierarchies_.size() && hierarchies_[i].has("cpuset");
    Status s;
    for (int attempt = 0; attempt < 5; ++attempt) {  // see CgroupV2Manager::create
      // An existing ancestor may have been left empty (made by a tool that never set it).
      auto fill_ancestor = [&, mount = mounts[i]](const std::string& dir) -> Status {
        if (dir == mount) return ok_status();
        return copy_cpuset(dir.substr(0, dir.rfind('/')), dir);
      };
      s = make_cgroup_dirs(
          *fs_, mounts[i], path_,
          cpuset ? std::function<Status(const std::string&)>(fill_ancestor) : nullptr,
          cpuset ? std::function<Status(const std::string&, const std::string&)>(copy_cpuset)
                 : nullptr);
      if (s.ok() || s.error().code() != ErrorCode::kNotFound) break;
    }
    if (!s.ok()) return fail(std::move(s).error());
    made.push_back(join_path(mounts[i], path_));
  }
  Status applied = apply(writes);
  if (!applied.ok()) return fail(std::move(applied).error());
  return ok_status();
}

Status CgroupV1Manager::update(const Resources& resources) {
  GANTRY_ASSIGN_OR_RETURN(std::vector<CgroupWrite> writes, plan_v1_writes(resources));
  GANTRY_TRY(check_exists());
  // OCI update carries no device rules; rewriting them would briefly deny running processes.
  std::erase_if(writes, [](const auto& w) { return w.controller == "devices"; });
  bool has_memsw = std::any_of(writes.begin(), writes.end(), [](const auto& w) {
    return w.file == "memory.memsw.limit_in_bytes";
  });
  if (has_memsw) {
    std::string dir = dir_for("memory");
    if (!dir.empty() && fs_->exists(join_path(dir, "memory.memsw.limit_in_bytes"))) {
      GANTRY_ASSIGN_OR_RETURN(std::string text, fs_->read(dir, "memory.memsw.limit_in_bytes"));
      GANTRY_ASSIGN_OR_RETURN(
          uint64_t current, parse_cgroup_uint(text, join_path(dir, "memory.memsw.limit_in_bytes")));
      writes = order_v1_memory_writes(std::move(writes), current);
    }
  }
  return apply(writes);
}

Status CgroupV1Manager::add_process(pid_t pid) {
  // Of a container made before, or by a runtime that joined other hierarchies: where it is.
  for (const auto& dir : existing_dirs())
    GANTRY_TRY(fs_->write(dir, "cgroup.procs", std::to_string(pid)));
  return ok_status();
}

Result<std::vector<pid_t>> CgroupV1Manager::pids() {
  // Every hierarchy holds the same processes; prefer the freezer's, which kill_all() uses.
  std::vector<std::string> order;
  if (auto d = dir_for("freezer"); !d.empty()) order.push_back(d);
  for (const auto& d : all_dirs()) order.push_back(d);
  std::string dir = first_existing(*fs_, order);
  if (dir.empty()) return Error(ErrorCode::kNotFound, "cgroup '" + path_ + "' does not exist");
  return read_tree_pids(*fs_, dir);
}

Status CgroupV1Manager::signal_each(int signal) {
  // Union over hierarchies: a process moved out of one by hand still gets the signal.
  std::set<pid_t> all;
  for (const auto& dir : all_dirs()) {
    if (!fs_->exists(dir)) continue;
    GANTRY_ASSIGN_OR_RETURN(std::vector<pid_t> pids, read_tree_pids(*fs_, dir));
    all.insert(pids.begin(), pids.end());
  }
  for (pid_t pid : all) GANTRY_TRY(fs_->kill(pid, signal));
  return ok_status();
}

Status CgroupV1Manager::kill_all(int signal) {
  GANTRY_TRY(check_exists());
  if (signal != SIGKILL || dir_for("freezer").empty() || !fs_->exists(dir_for("freezer"))) {
    if (signal != SIGKILL) return signal_each(signal);
    // No freezer: kill in rounds until a round finds nobody new (a forker may win a round).
    for (int round = 0; round < 100; ++round) {
      GANTRY_ASSIGN_OR_RETURN(std::vector<pid_t> left, pids());
      if (left.empty()) return ok_status();
      GANTRY_TRY(signal_each(signal));
      fs_->pause();
    }
    return ok_status();
  }
  // Frozen, nothing can fork; the kills take effect on thaw.
  GANTRY_TRY(freeze());
  Status killed = signal_each(signal);
  Status thawed = thaw();
  GANTRY_TRY(killed);
  return thawed;
}

Status CgroupV1Manager::set_freezer_state(const char* state) {
  GANTRY_TRY(check_exists());
  std::string dir = dir_for("freezer");
  if (dir.empty())
    return Error(
        ErrorCode::kFailedPrecondition,
        "freeze cgroup '" + path_ + "': the cgroup v1 'freezer' controller is not mounted");
  GANTRY_TRY(fs_->write(dir, "freezer.state", state));
  // FREEZING lasts until every task has stopped; the state file is the only signal.
  for (int attempt = 0;; ++attempt) {
    GANTRY_ASSIGN_OR_RETURN(std::string now, fs_->read(dir, "freezer.state"));
    if (trim(now) == state) return ok_status();
    if (attempt >= kCgroupPollLimit) {
      return Error(ErrorCode::kDeadlineExceeded, "set freezer state of '" + dir + "' to " + state +
                                                     ": still '" + std::string(trim(now)) + "'");
    }
    // Re-writing FROZEN retries tasks that were busy (in an uninterruptible sleep) last time.
    if (std::string(state) == "FROZEN") GANTRY_TRY(fs_->write(dir, "freezer.state", state));
    fs_->pause();
  }
}

Status CgroupV1Manager::freeze() { return set_freezer_state("FROZEN"); }
Status CgroupV1Manager::thaw() { return set_freezer_state("THAWED"); }

Result<CgroupUsage> CgroupV1Manager::usage() {
  GANTRY_TRY(check_exists());
  CgroupUsage u;
  auto read_uint = [&](const std::string& controller, const char* file, uint64_t* out) -> Status {
    std::string dir = dir_for(controller);
    if (dir.empty() || !fs_->exists(join_path(dir, file))) return ok_status();
    GANTRY_ASSIGN_OR_RETURN(std::string text, fs_->read(dir, file));
    GANTRY_ASSIGN_OR_RETURN(*out, parse_cgroup_uint(text, join_path(dir, file)));
    return ok_status();
  };
  GANTRY_TRY(read_uint("cpuacct", "cpuacct.usage", &u.cpu_usage_ns));
  GANTRY_TRY(read_uint("memory", "memory.max_usage_in_bytes", &u.memory_peak_bytes));
  GANTRY_TRY(read_uint("pids", "pids.current", &u.pids_current));
  std::string mem = dir_for("memory");
  if (!mem.empty() && fs_->exists(join_path(mem, "memory.oom_control"))) {
    GANTRY_ASSIGN_OR_RETURN(std::string text, fs_->read(mem, "memory.oom_control"));
    // oom_kill appeared in 4.13; older kernels only say whether the cgroup is under OOM.
    auto kills = parse_cgroup_keyed(text, "oom_kill", join_path(mem, "memory.oom_control"));
    if (kills.ok()) {
      u.oom_kills = *kills;
    } else if (kills.error().code() != ErrorCode::kNotFound) {
      return std::move(kills).error();
    }
  }
  if (dir_for("pids").empty()) {
    GANTRY_ASSIGN_OR_RETURN(std::vector<pid_t> pids, this->pids());
    u.pids_current = pids.size();
  }
  return u;
}

Status CgroupV1Manager::destroy() {
  std::vector<std::string> dirs = existing_dirs();
  if (dirs.empty()) return ok_status();
  GANTRY_ASSIGN_OR_RETURN(std::vector<pid_t> left, pids());
  if (!left.empty()) GANTRY_TRY(kill_all(SIGKILL));
  // A cgroup left frozen by pause(): its tasks die only once thawed.
  if (std::string f = dir_for("freezer"); !f.empty() && fs_->exists(f)) GANTRY_TRY(thaw());
  GANTRY_TRY(wait_until_empty(*fs_, dirs));
  for (const auto& dir : dirs) GANTRY_TRY(remove_cgroup_tree(*fs_, dir));
  for (const auto& h : hierarchies_) remove_empty_gantry_parents(*fs_, h.mount_point, path_);
  if (!unified_mount_.empty()) remove_empty_gantry_parents(*fs_, unified_mount_, path_);
  return ok_status();
}

}  // namespace gantry::runtime
