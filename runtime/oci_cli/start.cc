// `gantry runtime start`: release a created container's init, then poststart hooks.
#include "common/logging.h"
#include "runtime/hooks.h"
#include "runtime/launcher.h"
#include "runtime/oci_cli/container.h"

namespace gantry::runtime::oci_cli {

Status start_locked(const StateStore& store, const ContainerState& state) {
  const std::string context = "start container '" + state.id + "'";
  if (state.status != ContainerStatus::kCreated) {
    return Error(ErrorCode::kFailedPrecondition,
                 context + ": container is " + std::string(status_name(state.status)) +
                     ", not created");
  }
  GANTRY_ASSIGN_OR_RETURN(ContainerSpec spec, saved_spec(state));
  auto st = start_container(store.dir(state.id), state.pid);
  if (!st.ok()) return std::move(st).error().with_context(context);
  logger("runtime")->info("container started id={} pid={}", state.id, state.pid);
  run_poststart_hooks(state, spec);
  return ok_status();
}

void run_poststart_hooks(const ContainerState& state, const ContainerSpec& spec) {
  if (spec.hooks.poststart.empty()) return;
  (void)run_hooks("poststart", spec.hooks.poststart, hook_state(state, ContainerStatus::kRunning),
                  OnHookFailure::kWarnAndContinue);
}

Status start(const RuntimeOptions& rt, const std::string& id) {
  StateStore store(rt.root);
  GANTRY_ASSIGN_OR_RETURN(LockedContainer c, open_container(store, id));
  return start_locked(store, c.state);
}

}  // namespace gantry::runtime::oci_cli
