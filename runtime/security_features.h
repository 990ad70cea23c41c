// What Gantry's security components can do on this host, in the terms of the OCI runtime
// spec's features document (features.md: linux.capabilities, linux.seccomp), for
// `gantry runtime features`, which callers such as containerd read before they write a
// config.json. seccomp_features() asks the running kernel; thread-safe, no side effects.
#pragma once

#include <string>
#include <vector>

namespace gantry::runtime {

// Every capability name Gantry knows, CAP_CHOWN .. CAP_CHECKPOINT_RESTORE, by number.
std::vector<std::string> known_capabilities();

struct SeccompFeatures {
  bool enabled = false;                      // the kernel can load seccomp filters
  std::vector<std::string> actions;          // SCMP_ACT_* linux.seccomp may use
  std::vector<std::string> operators;        // SCMP_CMP_*
  std::vector<std::string> archs;            // SCMP_ARCH_*
  std::vector<std::string> known_flags;      // SECCOMP_FILTER_FLAG_* Gantry recognises
  std::vector<std::string> supported_flags;  // of those, what Gantry and this kernel can apply
};

SeccompFeatures seccomp_features();

}  // namespace gantry::runtime
