#include "runtime/seccomp/apply.h"

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace gantry::runtime {

static_assert(kSeccompFlagTsync == SECCOMP_FILTER_FLAG_TSYNC);
static_assert(kSeccompFlagLog == SECCOMP_FILTER_FLAG_LOG);
static_assert(kSeccompFlagSpecAllow == SECCOMP_FILTER_FLAG_SPEC_ALLOW);

int apply_seccomp(const CompiledSeccomp& compiled) noexcept {
  if (compiled.program.empty()) return 0;
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(compiled.program.size());
  // The kernel takes a non-const pointer but only reads the program.
  prog.filter = const_cast<sock_filter*>(compiled.program.data());
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, compiled.flags, &prog);
  if (rc == 0) return 0;
  // With TSYNC, a positive result is the id of a thread that could not be synchronised.
  if (rc > 0) return EAGAIN;
  if (errno != ENOSYS || compiled.flags != 0) return errno;
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) return errno;
  return 0;
}

}  // namespace gantry::runtime
