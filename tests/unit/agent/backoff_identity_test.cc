// Backoff growth, cap and jitter range; the agent token file's permissions and errors.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "agent/remote/agent_identity.h"
#include "agent/remote/backoff.h"
#include "common/file.h"
#include "tests/support/temp_dir.h"

namespace gantry::agent {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, DoublesUpToTheCapAndResets) {
  Backoff b({milliseconds(100), milliseconds(1000), 2.0, false});
  EXPECT_EQ(b.next(), milliseconds(100));
  EXPECT_EQ(b.next(), milliseconds(200));
  EXPECT_EQ(b.next(), milliseconds(400));
  EXPECT_EQ(b.next(), milliseconds(800));
  EXPECT_EQ(b.next(), milliseconds(1000));
  EXPECT_EQ(b.next(), milliseconds(1000));
  b.reset();
  EXPECT_EQ(b.next(), milliseconds(100));
}

TEST(BackoffTest, JitterStaysWithinHalfToFullDelay) {
  double r = 0;
  Backoff low({milliseconds(100), milliseconds(1000), 2.0, true}, [&] { return r; });
  EXPECT_EQ(low.next(), milliseconds(50));
  r = 0.999999;
  EXPECT_EQ(low.next(), milliseconds(199));
  Backoff real({milliseconds(100), milliseconds(1000), 2.0, true});
  for (int i = 0; i < 100; ++i) {
    auto d = real.next();
    EXPECT_GE(d, milliseconds(50));
    EXPECT_LE(d, milliseconds(1000));
  }
}

TEST(BackoffTest, WaitReturnsAtOnceWhenStopped) {
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(wait_for(std::chrono::hours(1), stop.get_token()));
  EXPECT_TRUE(wait_for(milliseconds(0), std::stop_token{}));
}

TEST(AgentIdentityTest, SavedFileIsOwnerOnlyAndRoundTrips) {
  testing::TempDir dir;
  std::string path = identity_path(dir.file("state"));
  ASSERT_TRUE(save_identity(path, {"a1", "secret-token", "http://127.0.0.1:8080", "builder"}).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir.file("state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto loaded = load_identity(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->id, "a1");
  EXPECT_EQ((*loaded)->token, "secret-token");
  EXPECT_EQ((*loaded)->controller, "http://127.0.0.1:8080");
  EXPECT_EQ((*loaded)->name, "builder");
}

TEST(AgentIdentityTest, MissingFileMeansFirstStart) {
  testing::TempDir dir;
  auto loaded = load_identity(dir.file("agent.json"));
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->has_value());
}

TEST(AgentIdentityTest, RefusesAFileOthersCanRead) {
  testing::TempDir dir;
  std::string path = dir.file("agent.json");
  ASSERT_TRUE(save_identity(path, {"a1", "t", "http://c", ""}).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto loaded = load_identity(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(loaded.error().message(),
            "agent token file '" + path +
                "' is accessible by others (mode 0644); it holds a secret: chmod 600 it, or "
                "delete it to register again");
}

TEST(AgentIdentityTest, MalformedFileNamesTheField) {
  testing::TempDir dir;
  std::string path = dir.file("agent.json");
  ASSERT_TRUE(write_file_atomic(path, R"({"id": "a1", "token": 5, "controller": "x"})", 0600).ok());
  auto loaded = load_identity(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message(), "agent token file '" + path +
                                          "': field 'token' is missing or not a non-empty string");
}

}  // namespace
}  // namespace gantry::agent
