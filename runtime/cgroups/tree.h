// Cgroup directory trees, shared by the v1 and v2 managers: split and join cgroup paths,
// collect the pids of a cgroup and its descendants, wait for a cgroup to empty (the kernel
// sends no event for that, so it is a bounded poll), and remove a tree child-first. All OS
// access goes through a CgroupFs. No state.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "runtime/cgroups/cgroup_fs.h"

namespace gantry::runtime {

// The parent under which Gantry makes cgroups by default ("/gantry/<id>"). Its empty
// subdirectories are Gantry's: destroy() removes them once no container uses them.
inline constexpr char kGantryCgroupParent[] = "/gantry";

// How many CgroupFs::pause() calls a manager waits for kernel state (an emptying cgroup, a
// freeze) before giving up: 2000 × 5 ms = 10 s with LinuxCgroupFs.
inline constexpr int kCgroupPollLimit = 2000;

// Checks that `path` is absolute and clean: no empty, "." or ".." components, not "/".
Status validate_cgroup_path(const std::string& path);

// "/a/b/c" → {"a", "b", "c"}.
std::vector<std::string> cgroup_path_components(const std::string& path);

// Pids in `dir`/cgroup.procs and in every descendant cgroup's.
Result<std::vector<pid_t>> read_tree_pids(CgroupFs& fs, const std::string& dir);

// Polls read_tree_pids() of every dir until all are empty; kDeadlineExceeded after
// kCgroupPollLimit pauses, naming the first pid left.
Status wait_until_empty(CgroupFs& fs, const std::vector<std::string>& dirs);

// Creates `mount` + `path`, making missing parents. `on_new_dir(parent, dir)` runs after each
// directory it makes (cpuset copies cpus/mems there; v2 enables controllers); `before_child(dir)`
// runs on each existing or new ancestor before its child is made. kAlreadyExists when the
// leaf is there already.
Status make_cgroup_dirs(
    CgroupFs& fs, const std::string& mount, const std::string& path,
    const std::function<Status(const std::string& dir)>& before_child,
    const std::function<Status(const std::string& parent, const std::string& dir)>& on_new_dir);

// rmdirs `dir` and its descendants, deepest first. A missing dir is fine.
Status remove_cgroup_tree(CgroupFs& fs, const std::string& dir);

// After `mount` + `path` is gone: removes the now-empty ancestors of `path` that lie within
// kGantryCgroupParent (that parent included), stopping at the first one still in use.
void remove_empty_gantry_parents(CgroupFs& fs, const std::string& mount, const std::string& path);

}  // namespace gantry::runtime
