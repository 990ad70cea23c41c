#include "common/time_format.h"

#include <gtest/gtest.h>

namespace gantry {
namespace {

using std::chrono::nanoseconds;
using std::chrono::system_clock;

// 2026-11-29T13:20:31Z plus `ns` nanoseconds.
system_clock::time_point at(long long ns) {
  return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(
      nanoseconds(1795958431LL * 1'000'000'000 + ns)));
}

TEST(TimeFormatTest, SecondsDropTheFraction) {
  EXPECT_EQ(format_rfc3339(at(999'999'999)), "2026-11-29T13:20:31Z");
}

TEST(TimeFormatTest, MillisAlwaysHaveThreeDigits) {
  EXPECT_EQ(format_rfc3339(at(0), TimePrecision::kMillis), "2026-11-29T13:20:31.000Z");
  EXPECT_EQ(format_rfc3339(at(42'000'000), TimePrecision::kMillis), "2026-11-29T13:20:31.042Z");
  EXPECT_EQ(format_rfc3339(at(999'999'999), TimePrecision::kMillis), "2026-11-29T13:20:31.999Z");
}

TEST(TimeFormatTest, NanosAreTrimmedAsGoPrintsThem) {
  EXPECT_EQ(format_rfc3339(at(0), TimePrecision::kNanosTrimmed), "2026-11-29T13:20:31Z");
  EXPECT_EQ(format_rfc3339(at(42'100'000), TimePrecision::kNanosTrimmed),
            "2026-11-29T13:20:31.0421Z");
  EXPECT_EQ(format_rfc3339(at(123'456'789), TimePrecision::kNanosTrimmed),
            "2026-11-29T13:20:31.123456789Z");
}

TEST(TimeFormatTest, BeforeTheEpochCountsForwardFromTheWholeSecond) {
  auto t = system_clock::time_point(std::chrono::milliseconds(-1500));
  EXPECT_EQ(format_rfc3339(t, TimePrecision::kMillis), "1969-12-31T23:59:58.500Z");
}

}  // namespace
}  // namespace gantry
