// How the launcher gets the container's cgroup: the manager for `spec.cgroups_path` (or
// "/gantry/<id>") on this host's cgroup layout, plus where the container's cgroup directories
// are for its /sys/fs/cgroup. One function so the launcher does not care which manager it gets.
// No state; reads /proc/self/mountinfo once.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "runtime/cgroups/detect.h"
#include "runtime/cgroups/manager.h"
#include "runtime/container_spec.h"
#include "runtime/launch_plan.h"

namespace gantry::runtime {

struct LaunchCgroup {
  std::unique_ptr<CgroupManager> manager;
  PlanHost host;  // cgroup version, the container's cgroup dirs per hierarchy, kernel facts
};

// PURE: the part of `layout` a new container with `resources` joins: on a v1 or hybrid host the
// hierarchies v1_hierarchies_to_join() picks and not the hybrid cgroup2 mount; a v2 layout
// unchanged. Resources that do not plan (bad values) leave the layout whole, for create() to
// report the error.
CgroupLayout layout_to_join(const CgroupLayout& layout, const Resources& resources);

// PURE: the PlanHost for the cgroup at `path` on `layout`.
PlanHost plan_host_for(const CgroupLayout& layout, const std::string& path);

Result<LaunchCgroup> make_launch_cgroup(const std::string& id, const ContainerSpec& spec);

}  // namespace gantry::runtime
