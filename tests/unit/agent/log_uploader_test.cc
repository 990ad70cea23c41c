// LogUploader against a fake controller log: the append-at-offset rules, lost answers, a
// controller that lost its tail across a restart, transient failures retried with backoff, and
// the size and checksum of the whole log.
#include "agent/remote/log_uploader.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "common/digest.h"
#include "tests/support/temp_dir.h"

namespace gantry::agent {
namespace {

// The controller's side of the log: refuses appends that do not start at its end. Scripted
// misbehaviour: `lose_answer` applies the next append but reports a transport error, `outages`
// fails that many calls without applying them, `truncate_to` drops the tail once (a controller
// that lost unsynced bytes in a restart).
class FakeLog : public LogAppender {
 public:
  Result<AppendReply> append(uint64_t offset, std::string_view data) override {
    std::lock_guard lock(mu);
    ++calls;
    offsets.push_back(offset);
    if (outages > 0) {
      --outages;
      return Error(ErrorCode::kUnavailable, "connect to controller: connection refused");
    }
    if (truncate_to && log.size() > *truncate_to) {
      log.resize(*truncate_to);
      truncate_to.reset();
    }
    if (fatal) return Error(ErrorCode::kFailedPrecondition, "attempt 1 of job 7 is superseded");
    if (offset != log.size()) return AppendReply{false, log.size()};
    log.append(data);
    if (lose_answer) {
      lose_answer = false;
      return Error(ErrorCode::kUnavailable, "read response: connection reset by peer");
    }
    return AppendReply{true, log.size()};
  }

  std::mutex mu;
  std::string log;
  int calls = 0;
  int outages = 0;
  bool lose_answer = false;
  bool fatal = false;
  std::optional<size_t> truncate_to;
  std::vector<uint64_t> offsets;
};

struct Waits {
  std::mutex mu;
  std::vector<std::chrono::milliseconds> delays;
};

LogUploaderOptions fast_options(Waits& waits, size_t chunk = 4) {
  LogUploaderOptions o;
  o.max_chunk = chunk;
  o.flush_interval = std::chrono::milliseconds(0);
  o.backoff.jitter = false;
  o.backoff.initial = std::chrono::milliseconds(100);
  o.backoff.max = std::chrono::milliseconds(400);
  o.wait = [&waits](std::chrono::milliseconds d, std::stop_token) {
    std::lock_guard lock(waits.mu);
    waits.delays.push_back(d);
    return true;
  };
  return o;
}

TEST(LogUploaderTest, UploadsEveryByteInOrderInChunks) {
  testing::TempDir dir;
  FakeLog log;
  Waits waits;
  auto up = LogUploader::start(dir.file("spool"), log, fast_options(waits));
  ASSERT_TRUE(up.ok()) << up.error().message();
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    std::string line = "line " + std::to_string(i) + "\n";
    expected += line;
    ASSERT_TRUE((*up)->write(line).ok());
  }
  auto summary = (*up)->finish();
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  EXPECT_EQ(log.log, expected);
  EXPECT_EQ(summary->size, expected.size());
  EXPECT_EQ(summary->sha256, sha256_hex(expected));
  for (size_t i = 1; i < log.offsets.size(); ++i) EXPECT_GT(log.offsets[i], log.offsets[i - 1]);
}

TEST(LogUploaderTest, LostAnswerDoesNotDuplicateTheChunk) {
  testing::TempDir dir;
  FakeLog log;
  log.lose_answer = true;
  Waits waits;
  auto up = LogUploader::start(dir.file("spool"), log, fast_options(waits, 1024));
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->write("hello ").ok());
  ASSERT_TRUE((*up)->write("world\n").ok());
  auto summary = (*up)->finish();
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  EXPECT_EQ(log.log, "hello world\n");
  EXPECT_EQ(summary->size, 12u);
}

TEST(LogUploaderTest, ResendsTheTailTheControllerLost) {
  testing::TempDir dir;
  FakeLog log;
  Waits waits;
  auto up = LogUploader::start(dir.file("spool"), log, fast_options(waits, 4));
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->write("abcdefgh").ok());
  // Wait (without sleeping) until the controller confirmed all 8 bytes, then make it forget 5.
  while ((*up)->acknowledged() < 8) std::this_thread::yield();
  {
    std::lock_guard lock(log.mu);
    log.truncate_to = 3;
  }
  ASSERT_TRUE((*up)->write("ijkl").ok());
  auto summary = (*up)->finish();
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  EXPECT_EQ(log.log, "abcdefghijkl");
  // The refused append at 8 was followed by one at 3, where the controller said its end was.
  auto it = std::find(log.offsets.begin(), log.offsets.end(), 3u);
  EXPECT_NE(it, log.offsets.end());
}

TEST(LogUploaderTest, RetriesOutagesWithGrowingCappedBackoff) {
  testing::TempDir dir;
  FakeLog log;
  log.outages = 5;
  Waits waits;
  auto up = LogUploader::start(dir.file("spool"), log, fast_options(waits, 1024));
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->write("survives a restart\n").ok());
  auto summary = (*up)->finish();
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  EXPECT_EQ(log.log, "survives a restart\n");
  std::vector<std::chrono::milliseconds> want{std::chrono::milliseconds(100),
                                              std::chrono::milliseconds(200),
                                              std::chrono::milliseconds(400),
                                              std::chrono::milliseconds(400),
                                              std::chrono::milliseconds(400)};
  EXPECT_EQ(waits.delays, want);
}

TEST(LogUploaderTest, PermanentRefusalEndsTheUploadWithTheReason) {
  testing::TempDir dir;
  FakeLog log;
  log.fatal = true;
  Waits waits;
  auto up = LogUploader::start(dir.file("spool"), log, fast_options(waits));
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->write("x").ok());
  auto summary = (*up)->finish();
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(summary.error().message(),
            "upload log at offset 0: attempt 1 of job 7 is superseded");
}

TEST(LogUploaderTest, ControllerAheadOfTheJobIsAnError) {
  testing::TempDir dir;
  FakeLog log;
  log.log = "something else entirely";
  Waits waits;
  auto up = LogUploader::start(dir.file("spool"), log, fast_options(waits));
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->write("abc").ok());
  auto summary = (*up)->finish();
  ASSERT_FALSE(summary.ok());
  EXPECT_NE(summary.error().message().find("has 23 bytes of this log, but the job wrote only 3"),
            std::string::npos)
      << summary.error().message();
}

TEST(LogUploaderTest, StopTokenEndsAnEndlessOutage) {
  testing::TempDir dir;
  FakeLog log;
  log.outages = 1 << 30;
  LogUploaderOptions o;
  o.flush_interval = std::chrono::milliseconds(0);
  // The real stop-aware wait: only the stop below can end it.
  o.backoff.initial = std::chrono::hours(1);
  auto up = LogUploader::start(dir.file("spool"), log, o);
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->write("never arrives").ok());
  std::stop_source stop;
  stop.request_stop();
  auto summary = (*up)->finish(stop.get_token());
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(summary.error().message(), "upload log: stopped with 0 of 13 bytes sent");
}

TEST(LogUploaderTest, EmptyLogFinishesWithEmptyDigest) {
  testing::TempDir dir;
  FakeLog log;
  Waits waits;
  auto up = LogUploader::start(dir.file("spool"), log, fast_options(waits));
  ASSERT_TRUE(up.ok());
  auto summary = (*up)->finish();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->size, 0u);
  EXPECT_EQ(summary->sha256, sha256_hex(""));
  EXPECT_EQ(log.calls, 0);
}

}  // namespace
}  // namespace gantry::agent

namespace gantry::agent {
namespace {

TEST(LogUploaderTest, ResendFromAfterFinishRestoresALostTail) {
  testing::TempDir dir;
  FakeLog log;
  Waits waits;
  auto up = LogUploader::start(dir.file("spool"), log, fast_options(waits, 3));
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->write("0123456789").ok());
  auto first = (*up)->finish();
  ASSERT_TRUE(first.ok());
  log.log.resize(4);  // the controller restarted and kept 4 bytes
  auto again = (*up)->resend_from(4);
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(log.log, "0123456789");
  EXPECT_EQ(again->sha256, first->sha256);
  EXPECT_FALSE((*up)->resend_from(11).ok());
}

// A job's first output goes up at once, not after the flush interval: with an interval of an
// hour the first line still arrives (the wait below is a guard against a hang, not a timing
// check). Output right after it is batched until the interval or finish().
TEST(LogUploaderTest, FirstOutputGoesAtOnceAndLaterOutputWaitsForTheInterval) {
  struct SignallingLog : FakeLog {
    Result<AppendReply> append(uint64_t offset, std::string_view data) override {
      auto r = FakeLog::append(offset, data);
      cv.notify_all();
      return r;
    }
    std::condition_variable cv;
  } log;
  testing::TempDir dir;
  Waits waits;
  LogUploaderOptions o = fast_options(waits, 1 << 20);
  o.flush_interval = std::chrono::hours(1);
  auto up = LogUploader::start(dir.file("spool"), log, o);
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->write("$ echo first\n").ok());
  {
    std::unique_lock lock(log.mu);
    ASSERT_TRUE(log.cv.wait_for(lock, std::chrono::seconds(60),
                                [&] { return log.log == "$ echo first\n"; }))
        << "the first line waited for the flush interval";
  }
  ASSERT_TRUE((*up)->write("first\n").ok());
  auto summary = (*up)->finish();
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  std::lock_guard lock(log.mu);
  EXPECT_EQ(log.log, "$ echo first\nfirst\n");
  EXPECT_EQ(log.calls, 2);
}

}  // namespace
}  // namespace gantry::agent
