#include "runtime/cgroups/v2.h"

#include <fcntl.h>
#include <signal.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "common/file.h"
#include "runtime/cgroups/device_filter.h"
#include "runtime/cgroups/stats.h"
#include "runtime/cgroups/tree.h"

namespace gantry::runtime {

namespace {

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

CgroupV2Manager::CgroupV2Manager(std::string mount, std::string path, CgroupFs* fs)
    : mount_(std::move(mount)),
      path_(std::move(path)),
      dir_(join_path(mount_, path_)),
      fs_(fs ? fs : &linux_cgroup_fs()) {}

const std::vector<std::string>& CgroupV2Manager::default_controllers() {
  static const std::vector<std::string> kDefault = {"cpu", "io", "memory", "pids"};
  return kDefault;
}

Status CgroupV2Manager::check_exists() const {
  if (!fs_->exists(dir_))
    return Error(ErrorCode::kNotFound, "cgroup '" + dir_ + "' does not exist");
  return ok_status();
}

Status CgroupV2Manager::enable_controllers(const std::string& dir,
                                           const std::vector<std::string>& wanted,
                                           const std::vector<std::string>& required) {
  GANTRY_ASSIGN_OR_RETURN(std::string enabled_text, fs_->read(dir, "cgroup.subtree_control"));
  std::vector<std::string> enabled = words(enabled_text);
  for (const auto& c : wanted) {
    if (contains(enabled, c)) continue;
    // One controller per write: a controller the kernel refuses (cpu with realtime tasks
    // about) must not keep the others off.
    Status s = fs_->write(dir, "cgroup.subtree_control", "+" + c);
    if (!s.ok() && contains(required, c)) return s;
  }
  return ok_status();
}

Status CgroupV2Manager::apply(const std::vector<CgroupWrite>& writes) {
  for (const auto& w : writes) {
    if (w.skip_if_missing && !fs_->exists(join_path(dir_, w.file))) continue;
    GANTRY_TRY(fs_->write(dir_, w.file, w.value));
  }
  return ok_status();
}

Result<std::vector<std::string>> CgroupV2Manager::required_controllers(
    const std::vector<CgroupWrite>& writes) {
  GANTRY_ASSIGN_OR_RETURN(std::string available_text, fs_->read(mount_, "cgroup.controllers"));
  std::vector<std::string> available = words(available_text);
  std::vector<std::string> required;
  for (const auto& w : writes) {
    if (w.controller.empty() || contains(required, w.controller)) continue;
    if (!contains(available, w.controller)) {
      std::string shown;
      for (const auto& c : available) shown += (shown.empty() ? "" : " ") + c;
      return Error(ErrorCode::kFailedPrecondition, "set '" + w.file + "': cgroup v2 controller '" +
                                                       w.controller + "' is not available in '" +
                                                       mount_ + "' (it has: '" + shown + "')");
    }
    required.push_back(w.controller);
  }
  return required;
}

Status CgroupV2Manager::create(const Resources& resources) {
  GANTRY_ASSIGN_OR_RETURN(std::vector<CgroupWrite> writes, plan_v2_writes(resources));
  GANTRY_ASSIGN_OR_RETURN(std::vector<bpf_insn> device_filter,
                          compile_device_filter(effective_device_rules(resources.devices)));
  if (fs_->exists(dir_))
    return Error(ErrorCode::kAlreadyExists, "cgroup '" + dir_ + "' exists already");
  GANTRY_ASSIGN_OR_RETURN(std::vector<std::string> required, required_controllers(writes));
  GANTRY_ASSIGN_OR_RETURN(std::string available_text, fs_->read(mount_, "cgroup.controllers"));
  std::vector<std::string> available = words(available_text);
  std::vector<std::string> wanted = required;
  for (const auto& c : default_controllers())
    if (contains(available, c) && !contains(wanted, c)) wanted.push_back(c);

  auto before_child = [&](const std::string& dir) {
    return enable_controllers(dir, wanted, required);
  };
  // A concurrent destroy() may remove an empty "/gantry" between our mkdirs; start again then.
  Status made;
  for (int attempt = 0; attempt < 5; ++attempt) {
    made = make_cgroup_dirs(*fs_, mount_, path_, before_child, nullptr);
    if (made.ok() || made.error().code() != ErrorCode::kNotFound) break;
  }
  if (!made.ok()) {
    if (made.error().code() == ErrorCode::kAlreadyExists)
      return Error(ErrorCode::kAlreadyExists, "cgroup '" + dir_ + "' exists already");
    return made;
  }
  // Before any process joins: v2 has no devices files, the program is the rule set.
  Status applied = fs_->attach_device_filter(dir_, device_filter);
  if (applied.ok()) applied = apply(writes);
  if (!applied.ok()) {
    (void)fs_->rmdir(dir_);
    remove_empty_gantry_parents(*fs_, mount_, path_);
    return applied;
  }
  return ok_status();
}

Status CgroupV2Manager::update(const Resources& resources) {
  // OCI update carries no device rules: the filter attached at create() stays.
  GANTRY_ASSIGN_OR_RETURN(std::vector<CgroupWrite> writes, plan_v2_writes(resources));
  GANTRY_TRY(check_exists());
  // A controller first needed now must be enabled down the parents before its files appear.
  GANTRY_ASSIGN_OR_RETURN(std::vector<std::string> required, required_controllers(writes));
  std::string dir = mount_;
  for (const auto& comp : cgroup_path_components(path_)) {
    GANTRY_TRY(enable_controllers(dir, required, required));
    dir = join_path(dir, comp);
  }
  return apply(writes);
}

Status CgroupV2Manager::add_process(pid_t pid) {
  return fs_->write(dir_, "cgroup.procs", std::to_string(pid));
}

UniqueFd CgroupV2Manager::open_clone_target() const {
  // A plain open: the fake file systems of the tests are real directories too.
  return UniqueFd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

Result<std::vector<pid_t>> CgroupV2Manager::pids() {
  GANTRY_TRY(check_exists());
  return read_tree_pids(*fs_, dir_);
}

Status CgroupV2Manager::signal_each(int signal) {
  GANTRY_ASSIGN_OR_RETURN(std::vector<pid_t> pids, read_tree_pids(*fs_, dir_));
  for (pid_t pid : pids) GANTRY_TRY(fs_->kill(pid, signal));
  return ok_status();
}

Status CgroupV2Manager::kill_all(int signal) {
  GANTRY_TRY(check_exists());
  if (signal != SIGKILL) return signal_each(signal);
  // cgroup.kill kills the whole subtree in the kernel, atomically with respect to forks.
  if (fs_->exists(join_path(dir_, "cgroup.kill"))) return fs_->write(dir_, "cgroup.kill", "1");
  if (!fs_->exists(join_path(dir_, "cgroup.freeze"))) return signal_each(signal);
  // Frozen, nothing can fork; the kills take effect on thaw.
  GANTRY_TRY(freeze());
  Status killed = signal_each(signal);
  Status thawed = thaw();
  GANTRY_TRY(killed);
  return thawed;
}

Status CgroupV2Manager::freeze() {
  GANTRY_TRY(check_exists());
  GANTRY_TRY(fs_->write(dir_, "cgroup.freeze", "1"));
  // The write starts freezing; cgroup.events says "frozen 1" once every task has stopped.
  for (int attempt = 0;; ++attempt) {
    GANTRY_ASSIGN_OR_RETURN(std::string events, fs_->read(dir_, "cgroup.events"));
    auto frozen = parse_cgroup_keyed(events, "frozen", join_path(dir_, "cgroup.events"));
    if (!frozen.ok()) return std::move(frozen).error();
    if (*frozen == 1) return ok_status();
    if (attempt >= kCgroupPollLimit) {
      return Error(ErrorCode::kDeadlineExceeded,
                   "freeze cgroup '" + dir_ + "': its processes did not all stop");
    }
    fs_->pause();
  }
}

Status CgroupV2Manager::thaw() {
  GANTRY_TRY(check_exists());
  return fs_->write(dir_, "cgroup.freeze", "0");
}

Result<CgroupUsage> CgroupV2Manager::usage() {
  GANTRY_TRY(check_exists());
  CgroupUsage u;
  GANTRY_ASSIGN_OR_RETURN(std::string cpu_stat, fs_->read(dir_, "cpu.stat"));
  GANTRY_ASSIGN_OR_RETURN(uint64_t usec,
                          parse_cgroup_keyed(cpu_stat, "usage_usec", join_path(dir_, "cpu.stat")));
  u.cpu_usage_ns = usec * 1000;
  if (fs_->exists(join_path(dir_, "memory.peak"))) {
    GANTRY_ASSIGN_OR_RETURN(std::string peak, fs_->read(dir_, "memory.peak"));
    GANTRY_ASSIGN_OR_RETURN(u.memory_peak_bytes,
                            parse_cgroup_uint(peak, join_path(dir_, "memory.peak")));
  }
  if (fs_->exists(join_path(dir_, "memory.events"))) {
    GANTRY_ASSIGN_OR_RETURN(std::string events, fs_->read(dir_, "memory.events"));
    auto kills = parse_cgroup_keyed(events, "oom_kill", join_path(dir_, "memory.events"));
    if (kills.ok()) {
      u.oom_kills = *kills;
    } else if (kills.error().code() != ErrorCode::kNotFound) {
      return std::move(kills).error();
    }
  }
  if (fs_->exists(join_path(dir_, "pids.current"))) {
    GANTRY_ASSIGN_OR_RETURN(std::string current, fs_->read(dir_, "pids.current"));
    GANTRY_ASSIGN_OR_RETURN(u.pids_current,
                            parse_cgroup_uint(current, join_path(dir_, "pids.current")));
  } else {
    GANTRY_ASSIGN_OR_RETURN(std::vector<pid_t> pids, read_tree_pids(*fs_, dir_));
    u.pids_current = pids.size();
  }
  return u;
}

Status CgroupV2Manager::destroy() {
  if (!fs_->exists(dir_)) return ok_status();
  GANTRY_ASSIGN_OR_RETURN(std::vector<pid_t> left, read_tree_pids(*fs_, dir_));
  if (!left.empty()) GANTRY_TRY(kill_all(SIGKILL));
  // A task frozen by pause() dies only once thawed (cgroup.kill handles that itself).
  if (fs_->exists(join_path(dir_, "cgroup.freeze")))
    GANTRY_TRY(fs_->write(dir_, "cgroup.freeze", "0"));
  GANTRY_TRY(wait_until_empty(*fs_, {dir_}));
  GANTRY_TRY(remove_cgroup_tree(*fs_, dir_));
  remove_empty_gantry_parents(*fs_, mount_, path_);
  return ok_status();
}

}  // namespace gantry::runtime
