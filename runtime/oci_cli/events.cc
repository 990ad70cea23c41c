// `gantry runtime events --stats`: one usage object for the container's cgroup, in runc's
// `events --stats` shape.
#include "runtime/oci_cli/container.h"

namespace gantry::runtime::oci_cli {

Result<Json> stats(const RuntimeOptions& rt, const std::string& id) {
  StateStore store(rt.root);
  GANTRY_ASSIGN_OR_RETURN(LockedContainer c, open_container(store, id));
  if (c.state.cgroup_path.empty()) {
    return Error(ErrorCode::kFailedPrecondition,
                 "events container '" + id + "': container is still being created");
  }
  GANTRY_ASSIGN_OR_RETURN(auto cg, container_cgroup(c.state));
  auto u = cg->usage();
  if (!u.ok()) return std::move(u).error().with_context("events container '" + id + "'");
  return Json{
      {"type", "stats"},
      {"id", id},
      {"data",
       {{"cpu", {{"usage", {{"total", u->cpu_usage_ns}}}}},
        {"memory", {{"usage", {{"max", u->memory_peak_bytes}}}, {"oom_kills", u->oom_kills}}},
        {"pids", {{"current", u->pids_current}}}}}};
}

}  // namespace gantry::runtime::oci_cli
