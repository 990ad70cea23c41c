#include <gtest/gtest.h>

#include "agent/container_manager.h"

namespace gantry::agent {
namespace {

TEST(PullPolicyTest, ParsesGitLabAndDockerNames) {
  EXPECT_EQ(*parse_pull_policy("if-not-present"), PullPolicy::kIfNotPresent);
  EXPECT_EQ(*parse_pull_policy("missing"), PullPolicy::kIfNotPresent);
  EXPECT_EQ(*parse_pull_policy("always"), PullPolicy::kAlways);
  EXPECT_EQ(*parse_pull_policy("never"), PullPolicy::kNever);
}

TEST(PullPolicyTest, RejectsUnknownNameNamingIt) {
  auto p = parse_pull_policy("sometimes");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(p.error().message().find("'sometimes'"), std::string::npos);
}

}  // namespace
}  // namespace gantry::agent
