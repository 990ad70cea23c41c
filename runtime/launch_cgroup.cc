#include "runtime/launch_cgroup.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "common/file.h"

namespace gantry::runtime {

namespace {

// Interim manager: one directory per mounted hierarchy. Replaced by the real managers.
// A new cpuset cgroup starts with no cpus and mems; copy them down from the nearest parent.
Status fill_cpuset(const std::string& dir) {
  size_t root = dir.find("/cpuset/") + 7;
  for (size_t pos = dir.find('/', root + 1); ; pos = dir.find('/', pos + 1)) {
    std::string d = pos == std::string::npos ? dir : dir.substr(0, pos);
    std::string parent = d.substr(0, d.rfind('/'));
    for (const char* f : {"/cpuset.cpus", "/cpuset.mems"}) {
      auto cur = read_file(d + f);
      if (cur.ok() && (cur->empty() || *cur == "\n")) {
        GANTRY_ASSIGN_OR_RETURN(std::string val, read_file(parent + f));
        GANTRY_TRY(write_file(d + f, val));
      }
    }
    if (pos == std::string::npos) break;
  }
  return ok_status();
}

class InterimCgroupManager : public CgroupManager {
 public:
  InterimCgroupManager(std::string path, std::vector<std::string> dirs, bool v2)
      : path_(std::move(path)), dirs_(std::move(dirs)), v2_(v2) {}

  CgroupVersion version() const override { return v2_ ? CgroupVersion::kV2 : CgroupVersion::kV1; }
  const std::string& path() const override { return path_; }
  Status create(const Resources&) override {
    for (const auto& d : dirs_) {
      if (path_exists(d)) {
        return Error(ErrorCode::kAlreadyExists, "cgroup '" + d + "' exists already");
      }
      GANTRY_TRY(make_dirs(d));
      if (d.find("/cpuset/") != std::string::npos) GANTRY_TRY(fill_cpuset(d));
    }
    return ok_status();
  }
  Status update(const Resources&) override { return ok_status(); }
  Status add_process(pid_t pid) override {
    for (const auto& d : dirs_) GANTRY_TRY(write_file(d + "/cgroup.procs", std::to_string(pid)));
    return ok_status();
  }
  Result<std::vector<pid_t>> pids() override {
    std::vector<pid_t> out;
    if (dirs_.empty()) return out;
    auto text = read_file(dirs_.front() + "/cgroup.procs");
    if (!text.ok()) return text.ok() ? Result<std::vector<pid_t>>(out) : text.error();
    std::istringstream in(*text);
    pid_t p;
    while (in >> p) out.push_back(p);
    return out;
  }
  Status kill_all(int signal) override {
    GANTRY_ASSIGN_OR_RETURN(auto list, pids());
    for (pid_t p : list) ::kill(p, signal);
    return ok_status();
  }
  Status freeze() override { return Error(ErrorCode::kUnimplemented, "freeze"); }
  Status thaw() override { return Error(ErrorCode::kUnimplemented, "thaw"); }
  Result<CgroupUsage> usage() override { return CgroupUsage{}; }
  Status destroy() override {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      bool left = false;
      for (const auto& d : dirs_) {
        if (!path_exists(d)) continue;
        auto text = read_file(d + "/cgroup.procs");
        if (text.ok() && !text->empty()) {
          left = true;
          std::istringstream in(*text);
          pid_t p;
          while (in >> p) ::kill(p, SIGKILL);
        } else {
          ::rmdir(d.c_str());
        }
      }
      if (!left) break;
      ::usleep(1000);
    }
    for (const auto& d : dirs_) {
      if (path_exists(d) && ::rmdir(d.c_str()) != 0) return sys_error("remove cgroup '" + d + "'");
      // The shared parent goes too once its last container has (EBUSY while others live).
      std::string parent = d.substr(0, d.rfind('/'));
      if (parent.size() > 6 && parent.compare(parent.size() - 7, 7, "/gantry") == 0) {
        ::rmdir(parent.c_str());
      }
    }
    return ok_status();
  }
  std::vector<std::string> host_paths() const override { return dirs_; }

 private:
  std::string path_;
  std::vector<std::string> dirs_;
  bool v2_;
};

}  // namespace

Result<LaunchCgroup> make_launch_cgroup(const std::string& id, const ContainerSpec& spec) {
  std::string path = spec.cgroups_path;
  if (path.empty()) {
    path = "/gantry/" + id;
  } else if (path.front() != '/') {
    path = "/gantry/" + path;
  }
  GANTRY_ASSIGN_OR_RETURN(std::string mounts, read_file("/proc/self/mounts"));
  std::istringstream in(mounts);
  std::string line;
  LaunchCgroup out;
  std::vector<std::string> dirs;
  bool v2_root = false;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string src, target, type;
    fields >> src >> target >> type;
    if (type == "cgroup2" && target == "/sys/fs/cgroup") v2_root = true;
    if ((type != "cgroup" && type != "cgroup2") || target.rfind("/sys/fs/cgroup", 0) != 0) {
      continue;
    }
    std::string name = target == "/sys/fs/cgroup" ? "" : target.substr(15);
    dirs.push_back(target + path);
    out.host.cgroup_v1_sources.push_back({name, target + path});
  }
  out.host.cgroup_v2 = v2_root;
  if (v2_root) {
    dirs = {"/sys/fs/cgroup" + path};
    out.host.cgroup_v1_sources = {{"", dirs.front()}};
  }
  out.manager = std::make_unique<InterimCgroupManager>(path, dirs, v2_root);
  return out;
}

}  // namespace gantry::runtime
