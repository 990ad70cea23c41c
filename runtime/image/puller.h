// Puller: reference → manifest (an index resolved to one platform) → config → layers, from a
// registry into the local image store. Layers download several at a time, each streamed into
// the content store's writer (which verifies digest and size before anything is stored); what
// the store has already is not fetched again, so pulling a present image costs one manifest
// request. Then the layers are unpacked into snapshots and the image is recorded.
// A Puller may run several pulls at once (the store locks what must be locked).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "runtime/image/image_store.h"
#include "runtime/image/reference.h"
#include "runtime/image/registry_client.h"

namespace gantry::runtime::image {

struct PullEvent {
  enum class Kind {
    kResolved,      // the manifest is known: `text` is the image manifest digest
    kLayerQueued,   // a layer will be downloaded (`total` bytes)
    kLayerPresent,  // a layer is in the store already
    kLayerBytes,    // `done` of `total` bytes of a layer have arrived
    kLayerDone,     // a layer is downloaded and verified
    kUnpacking,     // the layers are being unpacked into snapshots
  };
  Kind kind;
  std::string digest;  // the layer ("" for kResolved, kUnpacking)
  int64_t done = 0;
  int64_t total = 0;
  std::string text;
};
// Called from download threads, one call at a time (the puller serializes them).
using PullProgress = std::function<void(const PullEvent&)>;

struct PullOptions {
  Platform platform = host_platform();
  RegistryOptions registry;
  int parallel_downloads = 3;
  PullProgress progress;
};

struct PullResult {
  ImageRecord record;
  int64_t bytes_downloaded = 0;  // blob bytes fetched (manifests included)
  int blobs_downloaded = 0;      // configs and layers fetched
  int64_t requests = 0;          // HTTP requests to the registry
};

class Puller {
 public:
  explicit Puller(std::shared_ptr<ImageStore> store) : store_(std::move(store)) {}

  // Pulls `ref` and records it under ref.str(). Errors name the image and what failed:
  //   "pull '127.0.0.1:5000/app:1': fetch blob 'sha256:…' from '127.0.0.1:5000/app': …".
  Result<PullResult> pull(const Reference& ref, const PullOptions& options);

 private:
  std::shared_ptr<ImageStore> store_;
};

}  // namespace gantry::runtime::image
