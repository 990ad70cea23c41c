#include "runtime/security.h"

#include <sys/prctl.h>

#include <cerrno>

namespace gantry::runtime {

int set_no_new_privs() noexcept {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  return 0;
}

}  // namespace gantry::runtime
