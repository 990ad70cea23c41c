// The dashboard's files as the controller serves them: compiled in, typed, revalidated by ETag,
// and under a strict Content-Security-Policy.
#include "controller/web_files.h"

#include <gtest/gtest.h>

#include "common/file.h"

namespace gantry::controller {
namespace {

TEST(WebFilesTest, EveryFileOfTheWebFolderIsCompiledInAsIs) {
  for (const char* name : {"index.html", "app.js", "ansi.js", "app.css"}) {
    auto file = find_web_file(name);
    ASSERT_TRUE(file) << name;
    auto source = read_file(std::string(GANTRY_SOURCE_DIR) + "/controller/web/" + name);
    ASSERT_TRUE(source.ok());
    EXPECT_EQ(std::string(file->data, file->size), *source) << name;
  }
  EXPECT_FALSE(find_web_file("../CMakeLists.txt"));
  EXPECT_FALSE(find_web_file(""));
}

TEST(WebFilesTest, ResponsesCarryTypeCachingAndSecurityHeaders) {
  http::Response r = web_file_response("app.js", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "text/javascript; charset=utf-8");
  EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-cache");
  EXPECT_EQ(r.headers.get("X-Content-Type-Options").value_or(""), "nosniff");
  std::string csp = r.headers.get("Content-Security-Policy").value_or("");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos);
  EXPECT_EQ(web_content_type("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(web_content_type("app.css"), "text/css; charset=utf-8");
}

TEST(WebFilesTest, AKnownETagGets304WithoutABody) {
  http::Response first = web_file_response("index.html", "");
  std::string etag = first.headers.get("ETag").value_or("");
  ASSERT_FALSE(etag.empty());
  http::Response again = web_file_response("index.html", etag);
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(web_file_response("index.html", "\"other\"").status, 200);
}

TEST(WebFilesTest, UnknownFilesAre404) {
  EXPECT_EQ(web_file_response("nope.js", "").status, 404);
}

}  // namespace
}  // namespace gantry::controller
