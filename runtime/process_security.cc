#include "runtime/process_security.h"

#include "runtime/seccomp/cache.h"

namespace gantry::runtime {

Result<ProcessSecurity> prepare_process_security(const Process& process,
                                                 const std::optional<Seccomp>& seccomp,
                                                 const std::string& seccomp_cache_dir) {
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
    if (seccomp_cache_dir.empty()) {
      GANTRY_ASSIGN_OR_RETURN(sec.seccomp, compile_seccomp(*seccomp));
    } else {
      GANTRY_ASSIGN_OR_RETURN(CachedSeccomp cached,
                              compile_seccomp_cached(*seccomp, seccomp_cache_dir));
      sec.seccomp = std::move(cached.compiled);
      if (!cached.store_error.empty()) {
        sec.ignored.push_back("seccomp cache: " + cached.store_error);
      }
    }
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
