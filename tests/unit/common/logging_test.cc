// The records `--log FILE --log-format text|json` writes, in runc's (logrus's) shapes, and that
// log_to_file() sends every logger there.
#include "common/logging.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/json.h"
#include "tests/support/temp_dir.h"

namespace gantry {
namespace {

// 2026-11-28T10:00:00.5Z
const auto kTime = std::chrono::system_clock::time_point(std::chrono::seconds(1795860000)) +
                   std::chrono::milliseconds(500);

TEST(LoggingTest, JsonRecordsAreLogrusShaped) {
  std::string line = render_log_record(LogFormat::kJson, spdlog::level::err, kTime, "runtime",
                                       "create container \"a\": no \"rootfs\"\n");
  Json j = Json::parse(line);
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["msg"], "create container \"a\": no \"rootfs\"\n");
  EXPECT_EQ(j["time"], "2026-11-28T10:00:00.5Z");
  EXPECT_EQ(j["component"], "runtime");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(Json::parse(render_log_record(LogFormat::kJson, spdlog::level::warn, kTime, "x", ""))
                ["level"],
            "warning");
}

TEST(LoggingTest, TextRecordsQuoteTheMessage) {
  EXPECT_EQ(
      render_log_record(LogFormat::kText, spdlog::level::info,
                        std::chrono::system_clock::time_point(std::chrono::seconds(1795860000)),
                        "runtime", "container started id=\"c1\""),
      "time=\"2026-11-28T10:00:00Z\" level=info msg=\"container started id=\\\"c1\\\"\" "
      "component=runtime");
}

TEST(LoggingTest, LogToFileAppendsEveryLoggersRecords) {
  testing::TempDir dir;
  std::string path = dir.file("runtime.log");
  ASSERT_TRUE(write_file(path, "earlier\n").ok());
  ASSERT_TRUE(init_logging("info").ok());
  auto before = logger("logging-test-before");  // made before the switch: moves too
  ASSERT_TRUE(log_to_file(path, LogFormat::kJson).ok());
  before->info("first");
  logger("logging-test-after")->error("second");
  auto text = read_file(path);
  ASSERT_TRUE(text.ok());
  auto first_nl = text->find('\n');
  EXPECT_EQ(text->substr(0, first_nl), "earlier");
  auto rest = text->substr(first_nl + 1);
  auto nl = rest.find('\n');
  ASSERT_NE(nl, std::string::npos) << *text;
  EXPECT_EQ(Json::parse(rest.substr(0, nl))["msg"], "first");
  EXPECT_EQ(Json::parse(rest.substr(nl + 1))["level"], "error");
  EXPECT_EQ(log_to_file(dir.file("no/such/dir/x.log"), LogFormat::kText).error().message().find(
                "open log file '" + dir.file("no/such/dir/x.log") + "'"),
            0u);
  ASSERT_TRUE(init_logging("warn").ok());
}

}  // namespace
}  // namespace gantry
