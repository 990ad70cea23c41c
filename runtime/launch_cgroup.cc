#include "runtime/launch_cgroup.h"

#include "common/file.h"
#include "runtime/cgroups/factory.h"
#include "runtime/cgroups/resources.h"
#include "runtime/cgroups/v1.h"

namespace gantry::runtime {

namespace {

std::string base_name(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

CgroupLayout layout_to_join(const CgroupLayout& layout, const Resources& resources) {
  if (layout.mode == CgroupLayout::Mode::kV2) return layout;
  auto writes = plan_v1_writes(resources);
  if (!writes.ok()) return layout;
  CgroupLayout out = layout;
  out.v1 = v1_hierarchies_to_join(layout.v1, *writes);
  out.unified_mount.clear();
  return out;
}

PlanHost plan_host_for(const CgroupLayout& layout, const std::string& path) {
  PlanHost host;
  if (layout.mode == CgroupLayout::Mode::kV2) {
    host.cgroup_v2 = true;
    host.cgroup_v1_sources.push_back({"", join_path(layout.unified_mount, path)});
    return host;
  }
  // Inside, each hierarchy appears under the name it has on the host: "cpu,cpuacct",
  // "memory", "systemd", and "unified" for a hybrid host's cgroup2 mount.
  for (const auto& h : layout.v1) {
    host.cgroup_v1_sources.push_back({base_name(h.mount_point), join_path(h.mount_point, path)});
  }
  if (!layout.unified_mount.empty()) {
    host.cgroup_v1_sources.push_back(
        {base_name(layout.unified_mount), join_path(layout.unified_mount, path)});
  }
  return host;
}

Result<LaunchCgroup> make_launch_cgroup(const std::string& id, const ContainerSpec& spec) {
  GANTRY_ASSIGN_OR_RETURN(std::string path, resolve_cgroup_path(spec.cgroups_path, id));
  GANTRY_ASSIGN_OR_RETURN(CgroupLayout host_layout, detect_cgroup_layout());
  CgroupLayout layout = layout_to_join(host_layout, spec.resources);
  LaunchCgroup out;
  GANTRY_ASSIGN_OR_RETURN(out.manager, make_cgroup_manager(path, layout));
  out.host = plan_host_for(layout, path);
  out.host.overlay_volatile = kernel_has_overlay_volatile();
  return out;
}

}  // namespace gantry::runtime
