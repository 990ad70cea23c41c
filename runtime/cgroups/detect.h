// Cgroup layout detection: which cgroup file systems a host has mounted and where. PURE
// parse_cgroup_layout() turns /proc/self/mountinfo text into a CgroupLayout (v1, v2-only or
// hybrid, with each v1 hierarchy's controllers — co-mounted ones like "cpu,cpuacct" share one
// hierarchy — and the cgroup2 mount); detect_cgroup_layout() reads the real file. The factory
// (factory.h) picks a CgroupManager from the layout. Thread-compatible, no state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace gantry::runtime {

// One mounted cgroup v1 hierarchy.
struct CgroupV1Hierarchy {
  std::string mount_point;               // "/sys/fs/cgroup/cpu,cpuacct"
  std::vector<std::string> controllers;  // {"cpu", "cpuacct"}; empty for a named hierarchy
  std::string name;                      // "systemd" for "name=systemd", else ""

  bool has(std::string_view controller) const;
};

struct CgroupLayout {
  enum class Mode {
    kV1,      // only v1 hierarchies (or a cgroup2 mount is absent)
    kHybrid,  // v1 controller hierarchies plus a cgroup2 mount (usually without controllers)
    kV2,      // the unified hierarchy only: no v1 hierarchy has a controller
  };
  Mode mode = Mode::kV2;
  std::vector<CgroupV1Hierarchy> v1;  // in mountinfo order, one entry per hierarchy
  std::string unified_mount;          // cgroup2 mount point, "" if none

  // The v1 hierarchy with `controller`, or nullptr.
  const CgroupV1Hierarchy* v1_hierarchy(std::string_view controller) const;
};

std::string_view cgroup_mode_name(CgroupLayout::Mode mode);

// Parses /proc/<pid>/mountinfo text. When one hierarchy is mounted more than once (bind
// mounts), the first mount wins; a cgroup2 mount at "/sys/fs/cgroup" wins over others.
// kNotFound when no cgroup file system is mounted; kInvalidArgument (naming the line) when a
// cgroup line is malformed.
Result<CgroupLayout> parse_cgroup_layout(std::string_view mountinfo);

// parse_cgroup_layout() of /proc/self/mountinfo.
Result<CgroupLayout> detect_cgroup_layout();

}  // namespace gantry::runtime
