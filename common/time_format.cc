#include "common/time_format.h"

#include <cstdio>
#include <ctime>

namespace gantry {

std::string format_rfc3339(std::chrono::system_clock::time_point time, TimePrecision precision) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
  auto secs = ns / 1'000'000'000;
  auto frac = ns % 1'000'000'000;
  if (frac < 0) {  // before 1970: floor, so the fraction counts forward from a whole second
    frac += 1'000'000'000;
    --secs;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  switch (precision) {
    case TimePrecision::kSeconds:
      break;
    case TimePrecision::kMillis:
      std::snprintf(buf, sizeof buf, ".%03ld", static_cast<long>(frac / 1'000'000));
      out += buf;
      break;
    case TimePrecision::kNanosTrimmed:
      if (frac != 0) {
        std::snprintf(buf, sizeof buf, ".%09ld", static_cast<long>(frac));
        std::string digits = buf;
        while (digits.back() == '0') digits.pop_back();
        out += digits;
      }
      break;
  }
  return out + "Z";
}

}  // namespace gantry
