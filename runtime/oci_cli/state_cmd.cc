// `gantry runtime state`: the OCI state document of one container.
#include "runtime/oci_cli/container.h"

namespace gantry::runtime::oci_cli {

Result<Json> state(const RuntimeOptions& rt, const std::string& id) {
  StateStore store(rt.root);
  GANTRY_ASSIGN_OR_RETURN(LockedContainer c, open_container(store, id));
  return oci_state_json(c.state);
}

}  // namespace gantry::runtime::oci_cli
