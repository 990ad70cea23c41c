#include "runtime/process_security.h"

namespace gantry::runtime {

Result<ProcessSecurity> prepare_process_security(const Process& process,
                                                 const std::optional<Seccomp>& seccomp) {
  ProcessSecurity sec;
  GANTRY_ASSIGN_OR_RETURN(sec.caps, compile_capabilities(process.capabilities));
  // The kernel raises an ambient capability only if it is both permitted and inheritable;
  // runc skips the others with a warning, and `runc spec` configs rely on that (they list
  // ambient capabilities with an empty inheritable set).
  sec.caps.ambient &= sec.caps.permitted & sec.caps.inheritable;
  GANTRY_ASSIGN_OR_RETURN(sec.rlimits, compile_rlimits(process.rlimits));
  sec.no_new_privileges = process.no_new_privileges;
  if (seccomp) {
    GANTRY_ASSIGN_OR_RETURN(sec.seccomp, compile_seccomp(*seccomp));
  }
  return sec;
}

}  // namespace gantry::runtime
