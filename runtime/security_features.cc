#include "runtime/security_features.h"

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "runtime/capabilities.h"
#include "runtime/seccomp/profile.h"

namespace gantry::runtime {
namespace {

struct FlagName {
  const char* name;
  unsigned int flag;
  bool gantry_applies;  // false: known, but needs a seccomp agent Gantry does not have
};

constexpr FlagName kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC, true},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG, true},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW, true},
    {"SECCOMP_FILTER_FLAG_NEW_LISTENER", 1U << 3, false},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1U << 5, false},
};

// The kernel checks the flags before it reads the program: with a null program, EFAULT means
// "flag understood", EINVAL "unknown flag". Nothing is loaded either way.
bool kernel_accepts_flag(unsigned int flag) {
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, nullptr);
  return rc < 0 && errno == EFAULT;
}

bool kernel_has_filters() {
  uint32_t allow = SECCOMP_RET_ALLOW;
  if (::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &allow) == 0) return true;
  // Kernels before 4.14 lack GET_ACTION_AVAIL; PR_GET_SECCOMP fails only without seccomp.
  return ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
}

}  // namespace

std::vector<std::string> known_capabilities() {
  std::vector<std::string> names;
  for (int cap = 0; cap <= kLastKnownCapability; ++cap) {
    names.emplace_back(capability_name(cap));
  }
  return names;
}

SeccompFeatures seccomp_features() {
  SeccompFeatures f;
  f.enabled = kernel_has_filters();
  for (auto a : known_seccomp_actions()) f.actions.emplace_back(a);
  for (auto o : known_seccomp_operators()) f.operators.emplace_back(o);
  for (auto a : known_seccomp_architectures()) f.archs.emplace_back(a);
  for (const auto& flag : kFlags) {
    f.known_flags.emplace_back(flag.name);
    if (f.enabled && flag.gantry_applies && kernel_accepts_flag(flag.flag)) {
      f.supported_flags.emplace_back(flag.name);
    }
  }
  return f;
}

}  // namespace gantry::runtime
