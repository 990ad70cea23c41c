// How the launcher gets the container's cgroup: the manager for `spec.cgroups_path` (or
// "/gantry/<id>") on this host, plus where its directories are for the container's
// /sys/fs/cgroup. One function so the launcher does not care which manager it gets.
// Interim: until the cgroup managers land, a minimal manager (create, add, kill, destroy;
// resources are not applied) stands in; it is replaced by the real factory.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "runtime/cgroups/manager.h"
#include "runtime/container_spec.h"
#include "runtime/launch_plan.h"

namespace gantry::runtime {

struct LaunchCgroup {
  std::unique_ptr<CgroupManager> manager;
  PlanHost host;  // cgroup version and the container's cgroup dirs per hierarchy
};

Result<LaunchCgroup> make_launch_cgroup(const std::string& id, const ContainerSpec& spec);

}  // namespace gantry::runtime
