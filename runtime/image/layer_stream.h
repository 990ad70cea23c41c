// LayerStream: a layer blob's bytes as stored (gzip, zstd, xz, bzip2 or a plain tar, told
// apart by their first bytes) in, the uncompressed tar stream out. A thread of its own
// decompresses and hashes (the diff id) a few blocks ahead of the reader, so inflating overlaps
// with what the reader does with the bytes (creating files). gzip is inflated with ISA-L, other
// compressions with libarchive. Memory stays bounded: kBlocks blocks of kBlockSize bytes.
// One reader thread; the ChunkReader is called on the stream's own thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gantry::runtime::image {

// The next chunk of the blob; an empty view at its end. A view stays valid until the next call.
using ChunkReader = std::function<Result<std::string_view>()>;

class LayerStream {
 public:
  static constexpr size_t kBlockSize = 1 << 20;
  static constexpr int kBlocks = 4;

  // Starts decompressing `read`'s bytes at once.
  explicit LayerStream(ChunkReader read);
  // Cancels and joins the thread.
  ~LayerStream();
  LayerStream(const LayerStream&) = delete;
  LayerStream& operator=(const LayerStream&) = delete;

  // The next uncompressed block, valid until the next call; empty at the end of the stream.
  // Reading or decompression failures come after the blocks that preceded them:
  // "decompress: gzip: incorrect checksum", "decompress: gzip: the stream is truncated".
  Result<std::string_view> next();

  // After next() returned the end: "sha256:…" of every uncompressed byte, and their count.
  std::string diff_id() const;
  int64_t size() const;

  // Stops the thread (the reader is done or gave up) and returns the error the stream itself
  // failed with, if any, other than the cancellation: a reader's error is often a consequence.
  std::optional<Error> stop();

 private:
  struct Shared;
  std::unique_ptr<Shared> shared_;
};

}  // namespace gantry::runtime::image
