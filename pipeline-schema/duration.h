// GitLab durations as its ChronicDuration parser reads them: "3600", "90s", "1h 30m",
// "2 hours and 20 minutes", "1.5 days", "1 week". Used for timeout, start_in, expire_in,
// auto_stop_in. PURE; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gantry::schema {

// Seconds, or nullopt when `text` is not a duration. A bare number is seconds.
std::optional<std::int64_t> parse_duration(std::string_view text);

}  // namespace gantry::schema
