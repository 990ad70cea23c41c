// Job logs: appends at offsets, refusals with the current size, caps keeping head and tail,
// and state that survives reopening (a controller restart).
#include "controller/logs.h"

#include <gtest/gtest.h>

#include "common/digest.h"
#include "common/file.h"
#include "tests/support/temp_dir.h"

namespace gantry::controller {
namespace {

TEST(LogStoreTest, AppendsOnlyAtTheCurrentEnd) {
  testing::TempDir dir;
  LogStore logs(dir.path(), 0);
  auto r = logs.append(1, 1, 0, "hello ");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(r->accepted);
  EXPECT_EQ(r->size, 6u);
  // The same chunk again (its answer was lost): refused, nothing written twice.
  r = logs.append(1, 1, 0, "hello ");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->accepted);
  EXPECT_EQ(r->size, 6u);
  // A chunk from the future (one was lost): refused, nothing skipped.
  r = logs.append(1, 1, 12, "later");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->accepted);
  EXPECT_EQ(r->size, 6u);
  ASSERT_TRUE(logs.append(1, 1, 6, "world").ok());
  auto read = logs.read(1, 1, 0, 100);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->data, "hello world");
  EXPECT_EQ(read->next_offset, 11u);
  auto part = logs.read(1, 1, 6, 3);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(part->data, "wor");
  EXPECT_EQ(part->next_offset, 9u);
}

TEST(LogStoreTest, AttemptsHaveSeparateLogs) {
  testing::TempDir dir;
  LogStore logs(dir.path(), 0);
  ASSERT_TRUE(logs.append(5, 1, 0, "first").ok());
  auto r = logs.append(5, 2, 0, "second");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->accepted);
  EXPECT_EQ(logs.read(5, 1, 0, 100)->data, "first");
  EXPECT_EQ(logs.read(5, 2, 0, 100)->data, "second");
}

TEST(LogStoreTest, SizeAndContentSurviveReopening) {
  testing::TempDir dir;
  {
    LogStore logs(dir.path(), 0);
    ASSERT_TRUE(logs.append(2, 1, 0, "abc").ok());
  }
  LogStore logs(dir.path(), 0);
  EXPECT_EQ(*logs.size(2, 1), 3u);
  auto r = logs.append(2, 1, 3, "def");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->accepted);
  EXPECT_EQ(*logs.sha256(2, 1), sha256_hex("abcdef"));
}

TEST(LogStoreTest, CapKeepsHeadAndTailAndSaysWhatWasCut) {
  testing::TempDir dir;
  LogStore logs(dir.path(), 100);  // head 50, tail 50
  std::string all;
  uint64_t offset = 0;
  for (int i = 0; i < 40; ++i) {
    std::string chunk = "line " + std::to_string(i) + "\n";
    auto r = logs.append(3, 1, offset, chunk);
    ASSERT_TRUE(r.ok()) << r.error().message();
    ASSERT_TRUE(r->accepted);
    offset = r->size;
    all += chunk;
  }
  EXPECT_EQ(offset, all.size());  // offsets stay those of the whole log
  EXPECT_EQ(*logs.size(3, 1), all.size());
  EXPECT_EQ(*logs.sha256(3, 1), std::nullopt);  // cut: no checksum of the whole
  std::string got;
  uint64_t at = 0;
  for (int guard = 0; guard < 100; ++guard) {
    auto r = logs.read(3, 1, at, 1 << 20);
    ASSERT_TRUE(r.ok());
    if (r->data.empty()) break;
    got += r->data;
    at = r->next_offset;
  }
  EXPECT_EQ(got.substr(0, 50), all.substr(0, 50));
  EXPECT_NE(got.find("bytes cut from the middle of this log (limit 100)"), std::string::npos);
  EXPECT_EQ(got.substr(got.size() - 50), all.substr(all.size() - 50));
  EXPECT_LT(got.size(), all.size());

  // Reopened (restart): the same size, appends continue at the logical end.
  LogStore again(dir.path(), 100);
  EXPECT_EQ(*again.size(3, 1), all.size());
  auto r = again.append(3, 1, all.size(), "end\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->accepted);
}

TEST(LogStoreTest, UnderTheCapTheLogIsWhole) {
  testing::TempDir dir;
  LogStore logs(dir.path(), 1000);
  ASSERT_TRUE(logs.append(4, 1, 0, std::string(600, 'x')).ok());
  ASSERT_TRUE(logs.append(4, 1, 600, std::string(300, 'y')).ok());
  auto sha = logs.sha256(4, 1);
  ASSERT_TRUE(sha.ok());
  EXPECT_EQ(*sha, sha256_hex(std::string(600, 'x') + std::string(300, 'y')));
}

// Past the cap the tail rolls over in segments: a full one starts the next and the one before
// it goes, so at most two tail files exist and nothing is copied. Reads and a reopened store see
// the same log.
TEST(LogStoreTest, TailRollsOverInSegmentsAndReadsTheSameAfterReopening) {
  testing::TempDir dir;
  std::string all;
  auto read_all = [](LogStore& logs) {
    std::string got;
    uint64_t at = 0;
    for (int guard = 0; guard < 1000; ++guard) {
      auto r = logs.read(6, 1, at, 7);  // small reads cross segment boundaries
      EXPECT_TRUE(r.ok());
      if (!r.ok() || r->data.empty()) break;
      got += r->data;
      at = r->next_offset;
    }
    return got;
  };
  std::string before;
  {
    LogStore logs(dir.path(), 100);  // head 50, tail segments of 50
    for (int i = 0; i < 60; ++i) {
      std::string chunk = "l" + std::to_string(100 + i) + "\n";  // 5 bytes
      auto r = logs.append(6, 1, all.size(), chunk);
      ASSERT_TRUE(r.ok()) << r.error().message();
      ASSERT_TRUE(r->accepted);
      all += chunk;
      auto files = list_dir(dir.file("6"));
      ASSERT_TRUE(files.ok());
      EXPECT_LE(files->size(), 3u);  // the head and at most two tail segments
    }
    before = read_all(logs);
    EXPECT_EQ(before.substr(0, 50), all.substr(0, 50));
    EXPECT_EQ(before.substr(before.size() - 50), all.substr(all.size() - 50));
    size_t marker = before.find("bytes cut from the middle");
    ASSERT_NE(marker, std::string::npos);
    // What follows the marker is a contiguous suffix of the log.
    std::string kept = before.substr(before.find('\n', marker) + 1);
    EXPECT_EQ(all.substr(all.size() - kept.size()), kept);
    EXPECT_GE(kept.size(), 50u);
  }
  LogStore again(dir.path(), 100);
  EXPECT_EQ(*again.size(6, 1), all.size());
  EXPECT_EQ(read_all(again), before);
  ASSERT_TRUE(again.append(6, 1, all.size(), "end\n")->accepted);
}

// A log trimmed by an older gantry (one tail file, rewritten under a new offset) whose crash
// left the old tail beside the new one: the overlapping old one is dropped.
TEST(LogStoreTest, OverlappingLeftoverTailIsDroppedOnOpen) {
  testing::TempDir dir;
  ASSERT_TRUE(make_dirs(dir.file("8")).ok());
  ASSERT_TRUE(write_file(dir.file("8/1.log"), std::string(50, 'h')).ok());
  ASSERT_TRUE(write_file(dir.file("8/1.tail.50"), std::string(80, 'o')).ok());  // 50..130
  ASSERT_TRUE(write_file(dir.file("8/1.tail.90"), std::string(40, 't')).ok());  // 90..130
  LogStore logs(dir.path(), 100);
  EXPECT_EQ(*logs.size(8, 1), 130u);
  EXPECT_FALSE(path_exists(dir.file("8/1.tail.50")));
  auto r = logs.read(8, 1, 90, 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data, std::string(40, 't'));
}

}  // namespace
}  // namespace gantry::controller
