// ContentStore: content-addressed blobs and image records under the state root.
//   <root>/blobs/sha256/<hex>        verified blobs, read-only once renamed into place
//   <root>/ingest/<hex>.lock         flock held by whoever is writing blob <hex>
//   <root>/ingest/<hex>.<rand>       a blob being written (removed on abort/failure)
//   <root>/images.json + images.lock name → ImageRecord, rewritten atomically under the lock
//   <root>/gc.lock                   shared by writers (Lease), exclusive for prune
// Blobs are streamed into a temp file, hashed as they go, and renamed into place only after
// digest and size match, so a reader never sees a partial or wrong blob. Safe for concurrent
// use by threads and processes (file locks); a ContentStore object is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/digest.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "runtime/image/manifest.h"

namespace gantry::runtime::image {

// Streams one blob into the store. Not thread-safe; one writer per ingest. Destroying an
// uncommitted writer removes its temp file and releases the lock.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  // Appends bytes. Fails (kInvalidArgument) as soon as more than the expected size arrives.
  virtual Status write(const void* data, size_t size) = 0;
  Status write(std::string_view data) { return write(data.data(), data.size()); }
  virtual int64_t written() const = 0;
  // Verifies size and digest, fsyncs and renames into blobs/. On a mismatch nothing is stored:
  // "blob 'sha256:ab…': digest mismatch: got 'sha256:cd…'" (kInvalidArgument).
  virtual Status commit() = 0;
};

// An image name and what it resolved to. `digest` is what the name points at (an index or a
// manifest); `manifest_digest` is the platform's image manifest (== digest for a single-platform
// image); layers and chain ids are lowest first.
struct ImageRecord {
  std::string name;    // Reference::str(), e.g. "docker.io/library/alpine:latest"
  std::string digest;  // "sha256:…"
  std::string manifest_digest;
  std::string config_digest;
  std::string platform;  // "linux/amd64"
  std::vector<std::string> layers;     // compressed layer blob digests
  std::vector<std::string> chain_ids;  // snapshot keys
  int64_t size = 0;                    // sum of layer blob sizes
  std::string created;                 // from the config
  int64_t stored_at = 0;               // unix seconds when the record was written
};
Json image_record_to_json(const ImageRecord& record);
Result<ImageRecord> image_record_from_json(const Json& json);

class ContentStore {
 public:
  // Opens (creating as needed) the store under the state root `root`.
  static Result<std::shared_ptr<ContentStore>> open(const std::string& root);

  const std::string& root() const { return root_; }

  // A shared hold on the store that keeps prune from removing blobs and snapshots that are
  // being written and not yet recorded. Take one for the whole of a pull, load or import.
  class Lease {
   public:
    explicit Lease(UniqueFd fd) : fd_(std::move(fd)) {}
   private:
    UniqueFd fd_;
  };
  Result<Lease> lease();

  // Starts writing blob `expected` of `size` bytes (-1: unknown). Blocks while another thread
  // or process writes the same blob. Returns nullptr when the blob is already present (nothing
  // to write: the caller skips the download).
  Result<std::unique_ptr<BlobWriter>> begin(const Digest& expected, int64_t size);
  // begin + write + commit of bytes in memory (manifests, configs).
  Status put(const Digest& expected, std::string_view bytes);
  // Digest of `bytes`, stored; for content Gantry makes itself (import).
  Result<Digest> put_new(std::string_view bytes);

  // For content Gantry makes itself as a stream (import): a new temp file in ingest/, and
  // adopt() of that file once written — it is hashed, made read-only and renamed into place.
  Result<std::pair<UniqueFd, std::string>> create_temp();
  Result<Digest> adopt(const std::string& temp_path);

  bool has(const Digest& digest) const;
  std::string blob_path(const Digest& digest) const;
  Result<int64_t> blob_size(const Digest& digest) const;
  // Whole blob into memory, refused above `max_size` (manifests and configs are small).
  Result<std::string> read(const Digest& digest, int64_t max_size = 8 << 20) const;
  Result<UniqueFd> open_blob(const Digest& digest) const;
  Status remove(const Digest& digest);
  Result<std::vector<Digest>> list_blobs() const;

  // Image records. put_image replaces a record of the same name.
  Status put_image(const ImageRecord& record);
  Result<ImageRecord> get_image(const std::string& name) const;  // kNotFound
  Result<std::vector<ImageRecord>> list_images() const;           // sorted by name
  Status remove_image(const std::string& name);                   // kNotFound

  // Takes the exclusive side of the gc lock (blocks while a Lease is held). For prune.
  Result<UniqueFd> lock_exclusive();

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace gantry::runtime::image
