#include "runtime/oci_cli/container.h"

#include <sys/wait.h>

#include "common/logging.h"
#include "runtime/cgroups/factory.h"
#include "runtime/hooks.h"
#include "runtime/oci_cli/args.h"
#include "runtime/oci_config.h"

namespace gantry::runtime::oci_cli {

Result<LockedContainer> open_container(const StateStore& store, const std::string& id) {
  GANTRY_TRY(validate_container_id(id));
  LockedContainer c;
  GANTRY_ASSIGN_OR_RETURN(c.lock, store.lock(id));
  GANTRY_ASSIGN_OR_RETURN(c.state, store.load(id));
  return c;
}

Result<ContainerSpec> saved_spec(const ContainerState& state) {
  auto spec = parse_oci_config(state.config, state.bundle, "saved config of '" + state.id + "'");
  if (!spec.ok()) return Error(ErrorCode::kInternal, spec.error().message());
  return spec;
}

Result<std::unique_ptr<CgroupManager>> container_cgroup(const ContainerState& state) {
  auto cg = make_cgroup_manager(state.cgroup_path);
  if (!cg.ok()) return std::move(cg).error().with_context("container '" + state.id + "'");
  return cg;
}

std::string hook_state(const ContainerState& state, ContainerStatus status) {
  ContainerState s = state;
  s.status = status;
  return oci_state_json(s).dump();
}

void reap_if_child(pid_t pid) {
  if (pid > 0) (void)::waitpid(pid, nullptr, WNOHANG);
}

Status destroy_container(const StateStore& store, const ContainerState& state,
                         const ContainerSpec* spec) {
  std::vector<Hook> poststop;
  if (spec != nullptr) {
    poststop = spec->hooks.poststop;
  } else if (!state.config.is_null()) {
    GANTRY_ASSIGN_OR_RETURN(ContainerSpec saved, saved_spec(state));
    poststop = saved.hooks.poststop;
  }
  if (!state.cgroup_path.empty()) {
    GANTRY_ASSIGN_OR_RETURN(auto cg, container_cgroup(state));
    auto st = cg->destroy();
    if (!st.ok()) return std::move(st).error().with_context("delete container '" + state.id + "'");
  }
  reap_if_child(state.pid);
  GANTRY_TRY(store.remove(state.id));
  logger("runtime")->debug("container deleted id={}", state.id);
  (void)run_hooks("poststop", poststop, hook_state(state, ContainerStatus::kStopped),
                  OnHookFailure::kWarnAndContinue);
  return ok_status();
}

}  // namespace gantry::runtime::oci_cli
