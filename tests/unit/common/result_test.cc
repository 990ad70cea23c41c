#include "common/result.h"

#include <gtest/gtest.h>

namespace gantry {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Error(ErrorCode::kInvalidArgument, "value " + std::to_string(v) + " <= 0");
  return v;
}

Result<int> doubled(int v) {
  GANTRY_ASSIGN_OR_RETURN(int x, parse_positive(v));
  return 2 * x;
}

Status check(int v) {
  GANTRY_TRY(parse_positive(v));
  return ok_status();
}

TEST(ResultTest, CarriesValueOrError) {
  auto good = doubled(4);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 8);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message(), "value -1 <= 0");
}

TEST(ResultTest, TryPropagatesErrorsFromStatusFunctions) {
  EXPECT_TRUE(check(1).ok());
  EXPECT_EQ(check(0).error().message(), "value 0 <= 0");
}

TEST(ResultTest, ContextChainsReadOutermostFirst) {
  Error e = Error(ErrorCode::kIo, "invalid argument")
                .with_context("mount overlay at '/x'")
                .with_context("create container 'job-42'");
  EXPECT_EQ(e.message(), "create container 'job-42': mount overlay at '/x': invalid argument");
}

TEST(ResultTest, SysErrorNamesTheCallAndMapsErrno) {
  Error e = sys_error("open '/nope'", ENOENT);
  EXPECT_EQ(e.message(), "open '/nope': no such file or directory");
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_EQ(e.sys_errno(), ENOENT);
  EXPECT_EQ(sys_error("x", EPERM).code(), ErrorCode::kPermissionDenied);
}

TEST(ResultTest, ExitCodesDifferByErrorKind) {
  EXPECT_NE(exit_code_for(ErrorCode::kNotFound), 0);
  EXPECT_NE(exit_code_for(ErrorCode::kInvalidArgument), exit_code_for(ErrorCode::kNotFound));
}

}  // namespace
}  // namespace gantry
