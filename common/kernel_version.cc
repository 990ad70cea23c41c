#include "common/kernel_version.h"

#include <sys/utsname.h>

#include <charconv>

namespace gantry {

KernelVersion parse_kernel_release(std::string_view release) {
  KernelVersion v;
  if (release.empty() || release[0] < '0' || release[0] > '9') return {};
  const char* p = release.data();
  const char* end = release.data() + release.size();
  auto major = std::from_chars(p, end, v.major);
  if (major.ec != std::errc() || major.ptr == end || *major.ptr != '.') return {};
  auto minor = std::from_chars(major.ptr + 1, end, v.minor);
  if (minor.ec != std::errc()) return {};
  return v;
}

KernelVersion running_kernel() {
  static const KernelVersion version = [] {
    struct utsname u;
    return ::uname(&u) == 0 ? parse_kernel_release(u.release) : KernelVersion{};
  }();
  return version;
}

}  // namespace gantry
