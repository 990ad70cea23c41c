// FileLock: an exclusive flock(2) on a lock file, held while the object lives. flock locks
// belong to an open file description, so two FileLocks on one path exclude each other across
// threads and processes alike; a crashed holder's lock goes with its process.
// Move-only; one object is not shared between threads.
#pragma once

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace gantry {

class FileLock {
 public:
  // Opens (creating, mode 0600) `path` and waits for the exclusive lock.
  static Result<FileLock> take(const std::string& path);

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace gantry
