#include "pipeline-schema/duration.h"

#include <gtest/gtest.h>

namespace gantry::schema {
namespace {

TEST(DurationTest, ReadsGitLabDurations) {
  EXPECT_EQ(parse_duration("3600"), 3600);
  EXPECT_EQ(parse_duration("90s"), 90);
  EXPECT_EQ(parse_duration("1h 30m"), 5400);
  EXPECT_EQ(parse_duration("2 hours and 20 minutes"), 8400);
  EXPECT_EQ(parse_duration("1 week"), 604800);
  EXPECT_EQ(parse_duration("1.5 days"), 129600);
  EXPECT_EQ(parse_duration("3 mins 4 sec"), 184);
  EXPECT_EQ(parse_duration("2h30m"), 9000);
}

TEST(DurationTest, RejectsNonDurations) {
  EXPECT_EQ(parse_duration(""), std::nullopt);
  EXPECT_EQ(parse_duration("soon"), std::nullopt);
  EXPECT_EQ(parse_duration("10 parsecs"), std::nullopt);
  EXPECT_EQ(parse_duration("1..2 h"), std::nullopt);
}

}  // namespace
}  // namespace gantry::schema
