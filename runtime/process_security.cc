#include "runtime/process_security.h"

namespace gantry::runtime {

Result<ProcessSecurity> prepare_process_security(const Process& process,
                                                 const std::optional<Seccomp>& seccomp) {
  ProcessSecurity sec;
  GANTRY_ASSIGN_OR_RETURN(sec.caps, compile_capabilities(process.capabilities));
  // compile_capabilities() already drops ambient capabilities that are not both permitted and
  // inheritable, as runc skips them (`runc spec` configs list ambient capabilities with an
  // empty inheritable set); it says which in `ignored`.
  sec.warnings = sec.caps.warnings;
  sec.ignored = sec.caps.ignored;
  GANTRY_ASSIGN_OR_RETURN(sec.rlimits, compile_rlimits(process.rlimits));
  sec.no_new_privileges = process.no_new_privileges;
  if (seccomp) {
    GANTRY_ASSIGN_OR_RETURN(sec.seccomp, compile_seccomp(*seccomp));
    if (!sec.seccomp->skipped_syscalls.empty()) {
      std::string names;
      for (const auto& n : sec.seccomp->skipped_syscalls) {
        names.append(names.empty() ? "'" : ", '").append(n).append("'");
      }
      sec.warnings.push_back("linux.seccomp: " + names + " unknown to libseccomp " +
                             libseccomp_version() + "; rules for them skipped");
    }
    for (const auto& arch : sec.seccomp->skipped_architectures) {
      sec.ignored.push_back("linux.seccomp.architectures: '" + arch +
                            "' has the other byte order than this host; left out");
    }
  }
  return sec;
}

}  // namespace gantry::runtime
