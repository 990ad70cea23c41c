// ImageStore: the local image store as the image commands, the puller and the job executor
// see it — the content store (blobs, records) plus the snapshotter (unpacked layers).
// A puller streams blobs in through content(), then calls commit_image(), which checks every
// blob is present, unpacks missing snapshots and records the name. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "runtime/image/content_store.h"
#include "runtime/image/manifest.h"
#include "runtime/image/reference.h"
#include "runtime/image/snapshotter.h"

namespace gantry::runtime::image {

struct PruneReport {
  std::vector<std::string> removed_blobs;      // "sha256:…"
  std::vector<std::string> removed_snapshots;  // chain ids
  int64_t reclaimed_bytes = 0;                 // blob bytes
};

class ImageStore {
 public:
  // Opens the store under the state root (blobs/, snapshots/, images.json).
  static Result<std::shared_ptr<ImageStore>> open(const std::string& root,
                                                  UnpackOptions options = {});

  ContentStore& content() { return *content_; }
  Snapshotter& snapshots() { return *snapshots_; }

  // Records `name` (a Reference::str()) → the stored manifest or index `digest`. For an index,
  // picks the manifest for `platform`. Every blob must be in the content store already; layers
  // are unpacked into snapshots (once). Caller holds a ContentStore::Lease.
  Result<ImageRecord> commit_image(const std::string& name, const std::string& digest,
                                   const Platform& platform);

  // Finds an image by what a user typed: a reference (normalized: "alpine" finds
  // "docker.io/library/alpine:latest"), a full "sha256:…" or a unique prefix of ≥ 4 hex of an
  // image's digest. kNotFound / kInvalidArgument (ambiguous) name what was asked.
  Result<ImageRecord> find(const std::string& ref) const;
  Result<ImageConfig> config(const ImageRecord& record) const;
  // Overlay lowerdirs of the image, lowest first.
  Result<std::vector<std::string>> lower_dirs(const ImageRecord& record) const;

  // Removes the record `ref` names (blobs stay until prune).
  Result<ImageRecord> remove(const std::string& ref);
  // Snapshots (chain ids) that something other than an image record still uses, such as the
  // root filesystems of containers. Called by prune() with the gc lock held exclusively, so a
  // user that records its snapshots under a ContentStore::Lease cannot race with it.
  using InUseSnapshots = std::function<Result<std::set<std::string>>()>;

  // Removes every blob and snapshot no image record references and `in_use` does not name.
  // Waits for running leases.
  Result<PruneReport> prune(const InUseSnapshots& in_use = {});

 private:
  ImageStore(std::shared_ptr<ContentStore> c, std::shared_ptr<Snapshotter> s)
      : content_(std::move(c)), snapshots_(std::move(s)) {}
  std::shared_ptr<ContentStore> content_;
  std::shared_ptr<Snapshotter> snapshots_;
};

}  // namespace gantry::runtime::image
