// RFC 3339 timestamps in UTC, the one format Gantry writes times in: OCI state and image
// configs, logrus-shaped log records, job records, API JSON. Always "Z", never a local offset.
#pragma once

#include <chrono>
#include <string>

namespace gantry {

enum class TimePrecision {
  kSeconds,       // 2026-11-29T13:20:31Z
  kMillis,        // 2026-11-29T13:20:31.042Z (always three digits)
  kNanosTrimmed,  // 2026-11-29T13:20:31.0421Z: Go's time.RFC3339Nano, as runc and logrus print
                  // it (trailing zeros dropped, and the dot with them on a whole second)
};

std::string format_rfc3339(std::chrono::system_clock::time_point time,
                           TimePrecision precision = TimePrecision::kSeconds);

// Now, in that format.
inline std::string rfc3339_now(TimePrecision precision = TimePrecision::kSeconds) {
  return format_rfc3339(std::chrono::system_clock::now(), precision);
}

}  // namespace gantry
