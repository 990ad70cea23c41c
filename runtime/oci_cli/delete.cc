// `gantry runtime delete [--force]`: tear a container down. Like runc, a created container
// (its process never ran) is deleted without --force; a running one needs --force.
#include <signal.h>

#include "runtime/oci_cli/container.h"

namespace gantry::runtime::oci_cli {

Status remove(const RuntimeOptions& rt, const std::string& id, bool force) {
  StateStore store(rt.root);
  GANTRY_ASSIGN_OR_RETURN(LockedContainer c, open_container(store, id));
  const ContainerState& s = c.state;
  if (s.status == ContainerStatus::kRunning && !force) {
    return Error(ErrorCode::kFailedPrecondition,
                 "delete container '" + id + "': container is running; stop it first or use "
                 "--force");
  }
  // destroy() SIGKILLs everything left in the cgroup, init included.
  return destroy_container(store, s);
}

}  // namespace gantry::runtime::oci_cli
