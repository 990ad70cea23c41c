#include "common/fd_limit.h"

#include <sys/resource.h>

#include <string>

#include "common/file.h"

namespace gantry {

namespace {

uint64_t from_rlim(rlim_t v) { return v == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(v); }

}  // namespace

Result<FdLimit> open_files_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return sys_error("getrlimit RLIMIT_NOFILE");
  return FdLimit{from_rlim(rl.rlim_cur), from_rlim(rl.rlim_max)};
}

Result<FdLimit> raise_open_files_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return sys_error("getrlimit RLIMIT_NOFILE");
  rlim_t target = rl.rlim_max;
  if (target == RLIM_INFINITY) {
    // setrlimit refuses a soft limit above fs.nr_open; "unlimited" is not a number of files.
    target = 1024 * 1024;
    if (auto text = read_file("/proc/sys/fs/nr_open"); text.ok()) {
      try {
        target = static_cast<rlim_t>(std::stoull(*text));
      } catch (const std::exception&) {
      }
    }
  }
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= target) return open_files_limit();
  rl.rlim_cur = target;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return sys_error("raise RLIMIT_NOFILE soft limit to " + std::to_string(target));
  }
  return open_files_limit();
}

}  // namespace gantry
