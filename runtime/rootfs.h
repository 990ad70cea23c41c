// The container's filesystem, child side: mounts the root (bind of the bundle rootfs or an
// overlay), applies the plan's mounts, device nodes and /dev symlinks, pivots into it, then
// writes sysctls and makes read-only and masked paths. Called by runtime/init.cc in the new
// mount namespace only; failures go through init_fail() (no allocation, no exceptions).
#pragma once

#include "runtime/launch_plan.h"

namespace gantry::runtime {

// Before pivot_root: root propagation, the root mount, config mounts, devices, symlinks.
// `enter_cgroup` runs once, before plan.first_cgroup_ns_mount or else after the mounts and
// before the devices (the devices cgroup governs mknod); it returns once the child is in its
// cgroup and its cgroup namespace.
void prepare_rootfs(const LaunchPlan& plan, void (*enter_cgroup)(const LaunchPlan&));

// pivot_root into the prepared root and detach the old one; cwd becomes "/".
void pivot_into_rootfs(const LaunchPlan& plan);

// After pivot_root: sysctls, read-only paths, masked paths, then the read-only root.
void finalize_rootfs(const LaunchPlan& plan);

}  // namespace gantry::runtime
