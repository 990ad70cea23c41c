// The running kernel's version, for features that depend on it (overlayfs `volatile` came in
// 5.10): a release string such as "6.1.0-18-amd64" or "5.10.0" read as major.minor.
#pragma once

#include <string_view>

namespace gantry {

struct KernelVersion {
  int major = 0;
  int minor = 0;
  bool at_least(int want_major, int want_minor) const {
    return major > want_major || (major == want_major && minor >= want_minor);
  }
};

// PURE: "6.18.44-fc" -> {6, 18}; {0, 0} when `release` does not start with "N.N".
KernelVersion parse_kernel_release(std::string_view release);

// uname(2)'s release, parsed once.
KernelVersion running_kernel();

}  // namespace gantry
