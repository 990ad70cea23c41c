#include "common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>

namespace gantry {

Result<FileLock> FileLock::take(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return sys_error("open lock '" + path + "'");
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return sys_error("lock '" + path + "'");
  }
  return FileLock(std::move(fd));
}

}  // namespace gantry
