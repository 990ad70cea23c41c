// The process's open-file limit (RLIMIT_NOFILE). Servers that hold one connection per client
// (the controller: one long-poll per idle agent) raise their soft limit to the hard limit at
// start, since services get a soft limit of 1024 by default (systemd) and a hard limit far
// above it. Thread-safe: each call is one getrlimit/setrlimit.
#pragma once

#include <cstdint>

#include "common/result.h"

namespace gantry {

struct FdLimit {
  uint64_t soft = 0;
  uint64_t hard = 0;  // RLIM_INFINITY shows as UINT64_MAX
};

Result<FdLimit> open_files_limit();

// Raises the soft limit to the hard one (no privilege needed) and returns the limit now in
// force. A hard limit of "unlimited" raises the soft one to the kernel's nr_open instead.
Result<FdLimit> raise_open_files_limit();

}  // namespace gantry
