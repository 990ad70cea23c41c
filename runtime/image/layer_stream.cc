// The producer side runs on its own std::thread: acquire a free block, fill it (inflate, or
// libarchive's decompressor, or a copy), hash it, publish it. The consumer hands a block back
// when it asks for the next one. Both wait on one condition variable; cancel wakes everything.
#include "runtime/image/layer_stream.h"

#include <archive.h>
#include <archive_entry.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "common/digest.h"
#include "runtime/image/gzip_inflate.h"

namespace gantry::runtime::image {

namespace {

bool starts_with_bytes(std::string_view s, std::initializer_list<unsigned char> magic) {
  if (s.size() < magic.size()) return false;
  size_t i = 0;
  for (unsigned char m : magic)
    if (static_cast<unsigned char>(s[i++]) != m) return false;
  return true;
}

// Compressions other than gzip that a layer may use; libarchive reads them.
bool looks_compressed(std::string_view head) {
  return starts_with_bytes(head, {0x28, 0xb5, 0x2f, 0xfd}) ||          // zstd
         starts_with_bytes(head, {0xfd, '7', 'z', 'X', 'Z', 0x00}) ||  // xz
         starts_with_bytes(head, {'B', 'Z', 'h'}) ||                   // bzip2
         starts_with_bytes(head, {0x04, 0x22, 0x4d, 0x18});            // lz4
}

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

}  // namespace

struct LayerStream::Shared {
  ChunkReader read;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<char[]>> storage;
  std::vector<char*> free_blocks;                  // guarded by mu
  std::deque<std::pair<char*, size_t>> full;      // guarded by mu
  bool done = false;                               // guarded by mu
  bool cancelled = false;                          // guarded by mu
  std::optional<Error> error;                      // guarded by mu; set before done
  char* current = nullptr;                         // the consumer's block
  Sha256 hash;                                     // producer only, then read after done
  int64_t total = 0;
  std::string diff_id;
  std::thread thread;

  // Producer side.
  Result<char*> acquire() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return cancelled || !free_blocks.empty(); });
    if (cancelled) return Error(ErrorCode::kCancelled, "cancelled");
    char* b = free_blocks.back();
    free_blocks.pop_back();
    return b;
  }
  void give_back(char* b) {
    std::lock_guard lock(mu);
    free_blocks.push_back(b);
  }
  void publish(char* b, size_t n) {
    hash.update(b, n);
    total += static_cast<int64_t>(n);
    std::lock_guard lock(mu);
    full.emplace_back(b, n);
    cv.notify_all();
  }

  Status produce() {
    GANTRY_ASSIGN_OR_RETURN(std::string_view first, read());
    if (looks_like_gzip(first)) return produce_gzip(first);
    if (looks_compressed(first)) return produce_archive(first);
    return produce_plain(first);
  }

  Status produce_gzip(std::string_view chunk) {
    GzipInflater inflater;
    char* block = nullptr;
    size_t fill = 0;
    // Inflates `in` until it is used up and nothing is pending inside the inflater.
    auto pump = [&](std::string_view in) -> Status {
      for (;;) {
        if (block == nullptr) {
          GANTRY_ASSIGN_OR_RETURN(block, acquire());
          fill = 0;
        }
        size_t before = in.size();
        GANTRY_ASSIGN_OR_RETURN(size_t n, inflater.inflate(in, block + fill, kBlockSize - fill));
        fill += n;
        if (fill == kBlockSize) {
          publish(block, fill);
          block = nullptr;
        }
        if (n == 0 && in.size() == before) {
          if (!in.empty()) return Error(ErrorCode::kInvalidArgument, "gzip: no progress");
          return ok_status();
        }
      }
    };
    Status st = ok_status();
    while (st.ok() && !chunk.empty()) {
      st = pump(chunk);
      if (!st.ok()) break;
      auto next = read();
      if (!next.ok()) {
        st = std::move(next).error();
        break;
      }
      chunk = *next;
    }
    if (st.ok() && !inflater.at_member_end())
      st = Error(ErrorCode::kInvalidArgument, "gzip: the stream is truncated");
    if (block != nullptr) {
      if (st.ok() && fill > 0) {
        publish(block, fill);
      } else {
        give_back(block);
      }
    }
    return st;
  }

  Status produce_archive(std::string_view first) {
    struct Source {
      Shared* self;
      std::string_view pending;
      std::optional<Error> error;
    } src{this, first, std::nullopt};
    auto callback = [](archive* a, void* opaque, const void** buf) -> la_ssize_t {
      auto* s = static_cast<Source*>(opaque);
      if (s->pending.empty()) {
        auto chunk = s->self->read();
        if (!chunk.ok()) {
          s->error = chunk.error();
          archive_set_error(a, EIO, "%s", chunk.error().message().c_str());
          return -1;
        }
        s->pending = *chunk;
      }
      *buf = s->pending.data();
      auto n = static_cast<la_ssize_t>(s->pending.size());
      s->pending = {};
      return n;
    };
    std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
    archive_read_support_filter_all(a.get());
    archive_read_support_format_raw(a.get());
    auto fail = [&](const char* what) -> Error {
      if (src.error) return *src.error;
      const char* m = archive_error_string(a.get());
      return Error(ErrorCode::kInvalidArgument,
                   std::string(what) + ": " + (m ? m : "unknown archive error"));
    };
    if (archive_read_open(a.get(), &src, nullptr, callback, nullptr) != ARCHIVE_OK)
      return fail("open");
    archive_entry* entry;
    if (archive_read_next_header(a.get(), &entry) != ARCHIVE_OK) return fail("open");
    for (;;) {
      GANTRY_ASSIGN_OR_RETURN(char* block, acquire());
      la_ssize_t n = archive_read_data(a.get(), block, kBlockSize);
      if (n <= 0) {
        give_back(block);
        if (n < 0) return fail("read");
        return ok_status();
      }
      publish(block, static_cast<size_t>(n));
    }
  }

  Status produce_plain(std::string_view chunk) {
    while (!chunk.empty()) {
      while (!chunk.empty()) {
        GANTRY_ASSIGN_OR_RETURN(char* block, acquire());
        size_t n = std::min(chunk.size(), kBlockSize);
        std::memcpy(block, chunk.data(), n);
        chunk.remove_prefix(n);
        publish(block, n);
      }
      GANTRY_ASSIGN_OR_RETURN(chunk, read());
    }
    return ok_status();
  }

  void run() {
    Status st = Error(ErrorCode::kInternal, "decompression did not run");
    try {
      st = produce();
    } catch (const std::exception& e) {
      st = Error(ErrorCode::kInternal, std::string("decompression thread: ") + e.what());
    }
    if (st.ok()) diff_id = "sha256:" + hash.finish_hex();
    std::lock_guard lock(mu);
    if (!st.ok()) error = std::move(st).error().with_context("decompress");
    done = true;
    cv.notify_all();
  }
};

LayerStream::LayerStream(ChunkReader read) : shared_(std::make_unique<Shared>()) {
  Shared& s = *shared_;
  s.read = std::move(read);
  for (int i = 0; i < kBlocks; ++i) {
    s.storage.emplace_back(new char[kBlockSize]);
    s.free_blocks.push_back(s.storage.back().get());
  }
  s.thread = std::thread([&s] { s.run(); });
}

LayerStream::~LayerStream() { (void)stop(); }

Result<std::string_view> LayerStream::next() {
  Shared& s = *shared_;
  std::unique_lock lock(s.mu);
  if (s.current != nullptr) {
    s.free_blocks.push_back(s.current);
    s.current = nullptr;
    s.cv.notify_all();
  }
  s.cv.wait(lock, [&] { return !s.full.empty() || s.done; });
  if (!s.full.empty()) {
    auto [block, n] = s.full.front();
    s.full.pop_front();
    s.current = block;
    return std::string_view(block, n);
  }
  if (s.error) return *s.error;
  return std::string_view();
}

std::string LayerStream::diff_id() const { return shared_->diff_id; }
int64_t LayerStream::size() const { return shared_->total; }

std::optional<Error> LayerStream::stop() {
  Shared& s = *shared_;
  {
    std::lock_guard lock(s.mu);
    s.cancelled = true;
    s.cv.notify_all();
  }
  if (s.thread.joinable()) s.thread.join();
  std::lock_guard lock(s.mu);
  if (s.error && s.error->code() != ErrorCode::kCancelled) return s.error;
  return std::nullopt;
}

}  // namespace gantry::runtime::image
