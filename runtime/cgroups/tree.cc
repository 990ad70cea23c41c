#include "runtime/cgroups/tree.h"

#include <algorithm>

#include "common/file.h"
#include "runtime/cgroups/stats.h"

namespace gantry::runtime {

Status validate_cgroup_path(const std::string& path) {
  auto bad = [&](const std::string& why) {
    return Error(ErrorCode::kInvalidArgument, "cgroup path '" + path + "': " + why);
  };
  if (path.empty() || path[0] != '/') return bad("must be absolute");
  if (path == "/") return bad("must not be the root cgroup");
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view comp(path.data() + start, end - start);
    if (comp.empty()) return bad("has an empty component");
    if (comp == "." || comp == "..") return bad("must not contain '.' or '..'");
    start = end + 1;
  }
  return ok_status();
}

std::vector<std::string> cgroup_path_components(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Result<std::vector<pid_t>> read_tree_pids(CgroupFs& fs, const std::string& dir) {
  GANTRY_ASSIGN_OR_RETURN(std::string text, fs.read(dir, "cgroup.procs"));
  GANTRY_ASSIGN_OR_RETURN(std::vector<pid_t> pids,
                          parse_cgroup_procs(text, join_path(dir, "cgroup.procs")));
  GANTRY_ASSIGN_OR_RETURN(std::vector<std::string> children, fs.child_dirs(dir));
  for (const auto& child : children) {
    auto more = read_tree_pids(fs, join_path(dir, child));
    if (!more.ok()) {
      if (!fs.exists(join_path(dir, child))) continue;  // removed while we looked
      return std::move(more).error();
    }
    pids.insert(pids.end(), more->begin(), more->end());
  }
  return pids;
}

Status wait_until_empty(CgroupFs& fs, const std::vector<std::string>& dirs) {
  for (int attempt = 0;; ++attempt) {
    pid_t left = 0;
    std::string where;
    for (const auto& dir : dirs) {
      if (!fs.exists(dir)) continue;
      GANTRY_ASSIGN_OR_RETURN(std::vector<pid_t> pids, read_tree_pids(fs, dir));
      if (!pids.empty()) {
        left = pids.front();
        where = dir;
        break;
      }
    }
    if (left == 0) return ok_status();
    if (attempt >= kCgroupPollLimit) {
      return Error(ErrorCode::kDeadlineExceeded, "wait for cgroup '" + where + "' to empty: pid " +
                                                     std::to_string(left) + " is still in it");
    }
    fs.pause();
  }
}

Status make_cgroup_dirs(
    CgroupFs& fs, const std::string& mount, const std::string& path,
    const std::function<Status(const std::string& dir)>& before_child,
    const std::function<Status(const std::string& parent, const std::string& dir)>& on_new_dir) {
  std::vector<std::string> comps = cgroup_path_components(path);
  std::string cur = mount;
  for (size_t i = 0; i < comps.size(); ++i) {
    if (before_child) GANTRY_TRY(before_child(cur));
    std::string next = join_path(cur, comps[i]);
    bool leaf = i + 1 == comps.size();
    Status made = fs.mkdir(next);
    if (!made.ok()) {
      if (made.error().code() != ErrorCode::kAlreadyExists || leaf) return made;
    } else if (on_new_dir) {
      GANTRY_TRY(on_new_dir(cur, next));
    }
    cur = std::move(next);
  }
  return ok_status();
}

Status remove_cgroup_tree(CgroupFs& fs, const std::string& dir) {
  if (!fs.exists(dir)) return ok_status();
  auto children = fs.child_dirs(dir);
  if (!children.ok()) {
    if (!fs.exists(dir)) return ok_status();
    return std::move(children).error();
  }
  for (const auto& child : *children) GANTRY_TRY(remove_cgroup_tree(fs, join_path(dir, child)));
  return fs.rmdir(dir);
}

void remove_empty_gantry_parents(CgroupFs& fs, const std::string& mount, const std::string& path) {
  const std::string root = kGantryCgroupParent;
  std::string p = path;
  for (;;) {
    size_t slash = p.rfind('/');
    if (slash == 0 || slash == std::string::npos) return;
    p.resize(slash);
    if (p != root && !p.starts_with(root + "/")) return;
    // Still in use (children, processes), or a new container raced us: leave it.
    if (!fs.rmdir(join_path(mount, p)).ok()) return;
  }
}

}  // namespace gantry::runtime
