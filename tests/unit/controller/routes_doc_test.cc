// docs/api.md names every route of the route table (STYLE.md: one table, documented).
#include <gtest/gtest.h>

#include "common/file.h"
#include "controller/api/routes.h"

namespace gantry::controller {
namespace {

TEST(RoutesDocTest, ApiDocNamesEveryRoute) {
  auto doc = read_file(std::string(GANTRY_SOURCE_DIR) + "/docs/api.md");
  ASSERT_TRUE(doc.ok()) << doc.error().message();
  auto routes = route_table();
  ASSERT_GT(routes.size(), 20u);
  for (const auto& r : routes) {
    std::string heading = "`" + r.method + " " + r.path;
    EXPECT_NE(doc->find(heading), std::string::npos) << "docs/api.md lacks " << heading;
  }
}

TEST(RoutesDocTest, ErrorCodesMapToOneStatusEach) {
  EXPECT_EQ(http_status_for(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(http_status_for(ErrorCode::kUnauthenticated), 401);
  EXPECT_EQ(http_status_for(ErrorCode::kNotFound), 404);
  EXPECT_EQ(http_status_for(ErrorCode::kFailedPrecondition), 409);
  EXPECT_EQ(http_status_for(ErrorCode::kResourceExhausted), 413);
  EXPECT_EQ(http_status_for(ErrorCode::kIo), 500);
  EXPECT_EQ(api_code_for(ErrorCode::kNotFound), "not_found");
}

}  // namespace
}  // namespace gantry::controller
