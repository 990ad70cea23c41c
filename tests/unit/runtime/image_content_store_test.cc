#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "common/file.h"
#include "runtime/image/content_store.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime::image {
namespace {

using gantry::testing::TempDir;

Digest digest_of(std::string_view bytes) { return Digest{"sha256", sha256_hex(bytes)}; }

class ContentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ContentStore::open(dir_.path());
    ASSERT_TRUE(s.ok()) << s.error().message();
    store_ = *s;
  }
  std::vector<std::string> ingest_files() { return *list_dir(dir_.file("ingest")); }
  TempDir dir_;
  std::shared_ptr<ContentStore> store_;
};

TEST_F(ContentStoreTest, StoresVerifiedBlobUnderItsDigest) {
  std::string data = "hello layer";
  Digest d = digest_of(data);
  auto w = store_->begin(d, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(w.ok());
  ASSERT_NE(*w, nullptr);
  ASSERT_TRUE((*w)->write(data.substr(0, 5)).ok());
  EXPECT_FALSE(store_->has(d));  // nothing visible before commit
  ASSERT_TRUE((*w)->write(data.substr(5)).ok());
  ASSERT_TRUE((*w)->commit().ok());
  w->reset();
  EXPECT_TRUE(store_->has(d));
  EXPECT_EQ(store_->blob_path(d), dir_.file("blobs/sha256/" + d.hex));
  EXPECT_EQ(*store_->read(d), data);
  EXPECT_EQ(*store_->blob_size(d), 11);
  EXPECT_TRUE(ingest_files().empty());
  // Present blobs need no writer.
  auto again = store_->begin(d, 11);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, nullptr);
}

TEST_F(ContentStoreTest, RefusesBadDigestAndStoresNothing) {
  Digest claimed = digest_of("the real bytes");
  auto w = store_->begin(claimed, -1);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write("evil bytes").ok());
  Status st = (*w)->commit();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.error().message(), "blob '" + claimed.str() + "': digest mismatch: got '" +
                                      digest_of("evil bytes").str() + "'");
  w->reset();
  EXPECT_FALSE(store_->has(claimed));
  EXPECT_TRUE(store_->list_blobs()->empty());
  EXPECT_TRUE(ingest_files().empty());
}

TEST_F(ContentStoreTest, RefusesWrongSizeEarlyAndAtCommit) {
  std::string data = "12345";
  auto w = store_->begin(digest_of(data), 3);
  Status st = (*w)->write(data);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("more than the expected 3 bytes"), std::string::npos);
  w->reset();
  auto w2 = store_->begin(digest_of(data), 9);
  ASSERT_TRUE((*w2)->write(data).ok());
  EXPECT_NE((*w2)->commit().error().message().find("size mismatch: got 5 bytes, expected 9"),
            std::string::npos);
  w2->reset();
  EXPECT_TRUE(store_->list_blobs()->empty());
  EXPECT_TRUE(ingest_files().empty());
}

TEST_F(ContentStoreTest, AbandonedWriterLeavesNothing) {
  {
    auto w = store_->begin(digest_of("abc"), 3);
    ASSERT_TRUE((*w)->write("ab").ok());
    EXPECT_FALSE(ingest_files().empty());
  }
  EXPECT_TRUE(ingest_files().empty());
  EXPECT_FALSE(store_->has(digest_of("abc")));
}

TEST_F(ContentStoreTest, ConcurrentIngestOfOneBlobFromProcessesAndThreads) {
  std::string data(1 << 20, 'x');
  for (size_t i = 0; i < data.size(); i += 4096) data[i] = static_cast<char>(i / 4096);
  Digest d = digest_of(data);
  // Each writer streams in chunks; the lock makes the others wait, then see the blob present.
  auto ingest = [&](ContentStore& s) -> int {
    auto w = s.begin(d, static_cast<int64_t>(data.size()));
    if (!w.ok()) return 1;
    if (*w == nullptr) return 0;
    for (size_t off = 0; off < data.size(); off += 65536)
      if (!(*w)->write(std::string_view(data).substr(off, 65536)).ok()) return 2;
    return (*w)->commit().ok() ? 0 : 3;
  };
  std::vector<pid_t> kids;
  for (int i = 0; i < 3; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto s = ContentStore::open(dir_.path());
      ::_exit(s.ok() ? ingest(**s) : 9);
    }
    kids.push_back(pid);
  }
  std::vector<int> thread_rc(3, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back([&, i] { thread_rc[i] = ingest(*store_); });
  for (auto& t : threads) t.join();
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  for (int rc : thread_rc) EXPECT_EQ(rc, 0);
  EXPECT_EQ(*store_->read(d, 2 << 20), data);
  EXPECT_EQ(store_->list_blobs()->size(), 1u);
  EXPECT_TRUE(ingest_files().empty());
}

TEST_F(ContentStoreTest, ImageRecordsRoundTripAndRemove) {
  ImageRecord r;
  r.name = "docker.io/library/alpine:latest";
  r.digest = digest_of("m").str();
  r.manifest_digest = r.digest;
  r.config_digest = digest_of("c").str();
  r.platform = "linux/amd64";
  r.layers = {digest_of("l").str()};
  r.chain_ids = {digest_of("d").str()};
  r.size = 42;
  ASSERT_TRUE(store_->put_image(r).ok());
  auto got = store_->get_image(r.name);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->layers, r.layers);
  EXPECT_EQ(got->size, 42);
  EXPECT_GT(got->stored_at, 0);
  EXPECT_EQ(store_->list_images()->size(), 1u);
  ASSERT_TRUE(store_->remove_image(r.name).ok());
  EXPECT_EQ(store_->get_image(r.name).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->remove_image(r.name).error().message(),
            "image 'docker.io/library/alpine:latest' not found");
}

TEST_F(ContentStoreTest, ReadRefusesHugeBlobs) {
  Digest d = *store_->put_new(std::string(100, 'a'));
  auto r = store_->read(d, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted);
}

}  // namespace
}  // namespace gantry::runtime::image
