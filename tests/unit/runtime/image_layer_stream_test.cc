#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/digest.h"
#include "runtime/image/gzip_inflate.h"
#include "runtime/image/layer_stream.h"

namespace gantry::runtime::image {
namespace {

// Compressible but not trivial: a few MB that inflate into several LayerStream blocks.
std::string sample(size_t size) {
  std::string s;
  s.reserve(size);
  uint32_t x = 12345;
  while (s.size() < size) {
    x = x * 1103515245 + 12345;
    s += "line " + std::to_string(x % 1000) + (x % 7 == 0 ? " \x01\x02\xff" : " text") + "\n";
  }
  s.resize(size);
  return s;
}

// One compressed member of `data`, made with libarchive's writer ("gzip", "zstd").
std::string compress(const std::string& data, const char* filter) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_raw(a);
  archive_write_add_filter_by_name(a, filter);
  archive_write_set_bytes_per_block(a, 0);
  auto cb = [](archive*, void* o, const void* b, size_t n) -> la_ssize_t {
    static_cast<std::string*>(o)->append(static_cast<const char*>(b), n);
    return static_cast<la_ssize_t>(n);
  };
  EXPECT_EQ(archive_write_open(a, &out, nullptr, cb, nullptr), ARCHIVE_OK);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "x");
  archive_entry_set_filetype(e, AE_IFREG);
  EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK);
  archive_entry_free(e);
  EXPECT_EQ(archive_write_data(a, data.data(), data.size()), static_cast<la_ssize_t>(data.size()));
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// Inflates `gz` fed `in_step` bytes at a time into `out_step`-byte buffers.
Result<std::string> inflate_all(const std::string& gz, size_t in_step, size_t out_step) {
  GzipInflater inf;
  std::string out;
  std::vector<char> buf(out_step);
  for (size_t at = 0; at < gz.size(); at += in_step) {
    std::string_view in(gz.data() + at, std::min(in_step, gz.size() - at));
    do {
      GANTRY_ASSIGN_OR_RETURN(size_t n, inf.inflate(in, buf.data(), buf.size()));
      out.append(buf.data(), n);
      if (n == 0 && !in.empty()) return Error(ErrorCode::kInternal, "no progress");
      if (n == 0) break;
    } while (true);
  }
  if (!inf.at_member_end()) return Error(ErrorCode::kInvalidArgument, "truncated");
  return out;
}

TEST(GzipInflaterTest, InflatesWhateverTheChunking) {
  std::string data = sample(300000);
  std::string gz = compress(data, "gzip");
  for (auto [in_step, out_step] : std::vector<std::pair<size_t, size_t>>{
           {1, 65536}, {7, 1}, {4096, 100}, {gz.size(), 1 << 20}}) {
    SCOPED_TRACE(std::to_string(in_step) + "/" + std::to_string(out_step));
    auto r = inflate_all(gz, in_step, out_step);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(*r, data);
  }
}

TEST(GzipInflaterTest, ConcatenatedMembersAreOneStream) {
  std::string a = sample(5000), b = sample(7000);
  auto r = inflate_all(compress(a, "gzip") + compress(b, "gzip"), 333, 4096);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, a + b);
}

TEST(GzipInflaterTest, BadChecksumTruncationAndTrailingBytesAreErrors) {
  std::string gz = compress(sample(20000), "gzip");
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 0x55;  // in the CRC-32 of the trailer
  auto r = inflate_all(bad_crc, 1000, 4096);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "gzip: incorrect checksum");

  auto r2 = inflate_all(gz.substr(0, gz.size() - 3), 1000, 4096);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().message(), "truncated");

  auto r3 = inflate_all(gz + "junk", 1000, 4096);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().message(), "gzip: unexpected data after the end of the stream");

  auto r4 = inflate_all("not gzip at all", 1000, 4096);
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().message(), "gzip: not a gzip member");
}

// A ChunkReader over `bytes` in `step`-byte chunks, failing with `fail` at the end if set.
ChunkReader reader(const std::string& bytes, size_t step, std::string fail = "") {
  auto at = std::make_shared<size_t>(0);
  return [&bytes, step, at, fail]() -> Result<std::string_view> {
    if (*at >= bytes.size()) {
      if (!fail.empty()) return Error(ErrorCode::kUnavailable, fail);
      return std::string_view();
    }
    size_t n = std::min(step, bytes.size() - *at);
    std::string_view v(bytes.data() + *at, n);
    *at += n;
    return v;
  };
}

Result<std::string> read_all(LayerStream& s) {
  std::string out;
  for (;;) {
    GANTRY_ASSIGN_OR_RETURN(std::string_view b, s.next());
    if (b.empty()) return out;
    out.append(b);
  }
}

TEST(LayerStreamTest, SameBytesAndDiffIdForEveryCompression) {
  std::string data = sample(3 * LayerStream::kBlockSize + 12345);
  std::string want_id = "sha256:" + sha256_hex(data);
  std::vector<std::pair<const char*, std::string>> blobs = {
      {"none", data}, {"gzip", compress(data, "gzip")}, {"zstd", compress(data, "zstd")}};
  for (const auto& [name, blob] : blobs) {
    SCOPED_TRACE(name);
    LayerStream s(reader(blob, 100000));
    auto out = read_all(s);
    ASSERT_TRUE(out.ok()) << out.error().message();
    EXPECT_EQ(*out == data, true);
    EXPECT_EQ(s.diff_id(), want_id);
    EXPECT_EQ(s.size(), static_cast<int64_t>(data.size()));
    EXPECT_FALSE(s.stop().has_value());
  }
}

TEST(LayerStreamTest, FailuresComeAfterTheBytesBeforeThem) {
  std::string data = sample(50000);
  LayerStream s(reader(data, 1000, "connection reset"));
  std::string got;
  Result<std::string_view> b = std::string_view();
  while ((b = s.next()).ok() && !b->empty()) got.append(*b);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message(), "decompress: connection reset");
  EXPECT_EQ(got, data);
  auto cause = s.stop();
  ASSERT_TRUE(cause.has_value());
  EXPECT_EQ(cause->message(), "decompress: connection reset");

  std::string gz = compress(data, "gzip");
  std::string half = gz.substr(0, gz.size() / 2);
  LayerStream t(reader(half, 999));
  auto r = read_all(t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "decompress: gzip: the stream is truncated");
}

TEST(LayerStreamTest, StopWhileTheDecompressorWaitsForRoom) {
  // Far more than kBlocks blocks: the thread is blocked on a full queue when stop() comes.
  std::string data = sample(4 * LayerStream::kBlocks * LayerStream::kBlockSize);
  LayerStream s(reader(data, 1 << 20));
  auto first = s.next();
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->empty());
  EXPECT_FALSE(s.stop().has_value());  // a cancellation is not the stream's failure
}

}  // namespace
}  // namespace gantry::runtime::image
