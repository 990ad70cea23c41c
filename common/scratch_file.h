// Scratch files: written atomically like write_file_atomic() (common/file.h) — temp file beside
// the path, then rename, so a reader sees the old or the new content — but without the fsync.
// For files whose owner does not survive a crash either: a container's bundle and state, a
// job's script, the seccomp cache. On a busy disk one fsync can cost more than the rest of a
// container's lifecycle. Thread-safe (no state).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/result.h"

namespace gantry {

// Errors name the path, as write_file_atomic()'s do.
Status write_scratch_file(const std::string& path, std::string_view data, mode_t mode = 0644);

}  // namespace gantry
