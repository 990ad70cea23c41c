#include "runtime/cgroups/factory.h"

#include <algorithm>

#include "runtime/cgroups/tree.h"
#include "runtime/cgroups/v1.h"
#include "runtime/cgroups/v2.h"

namespace gantry::runtime {

Result<std::string> resolve_cgroup_path(std::string_view cgroups_path, std::string_view id) {
  std::string path;
  if (cgroups_path.empty()) {
    if (id.empty() || id.find('/') != std::string_view::npos)
      return Error(ErrorCode::kInvalidArgument,
                   "cgroup path for container '" + std::string(id) + "': not a valid id");
    path = std::string(kGantryCgroupParent) + "/" + std::string(id);
  } else if (cgroups_path.front() == '/') {
    path = std::string(cgroups_path);
  } else if (std::count(cgroups_path.begin(), cgroups_path.end(), ':') == 2) {
    return Error(ErrorCode::kUnimplemented,
                 "linux.cgroupsPath '" + std::string(cgroups_path) +
                     "': systemd cgroup paths (slice:prefix:name) are not supported; use a "
                     "cgroupfs path such as '/gantry/job-42'");
  } else {
    path = std::string(kGantryCgroupParent) + "/" + std::string(cgroups_path);
  }
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  Status valid = validate_cgroup_path(path);
  if (!valid.ok()) return std::move(valid).error().with_context("linux.cgroupsPath");
  return path;
}

Result<std::unique_ptr<CgroupManager>> make_cgroup_manager(const std::string& path,
                                                           const CgroupLayout& layout,
                                                           CgroupFs* fs) {
  GANTRY_TRY(validate_cgroup_path(path));
  switch (layout.mode) {
    case CgroupLayout::Mode::kV2:
      return std::unique_ptr<CgroupManager>(
          std::make_unique<CgroupV2Manager>(layout.unified_mount, path, fs));
    case CgroupLayout::Mode::kV1:
    case CgroupLayout::Mode::kHybrid:
      return std::unique_ptr<CgroupManager>(
          std::make_unique<CgroupV1Manager>(layout.v1, path, layout.unified_mount, fs));
  }
  return Error(ErrorCode::kInternal, "unknown cgroup layout");
}

Result<std::unique_ptr<CgroupManager>> make_cgroup_manager(const std::string& path) {
  GANTRY_ASSIGN_OR_RETURN(CgroupLayout layout, detect_cgroup_layout());
  return make_cgroup_manager(path, layout);
}

}  // namespace gantry::runtime
