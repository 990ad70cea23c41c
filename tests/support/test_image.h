// Test images: stores layers built with LayerTar, their config and a manifest (or an index of
// several platforms) in a content store, the way a puller would, and returns the top digest.
// Used by the image store, import/load and overlay tests. Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/json.h"
#include "runtime/image/content_store.h"
#include "tests/support/layer_tar.h"

namespace gantry::testing {

struct TestImageOptions {
  runtime::image::Compression compression = runtime::image::Compression::kGzip;
  std::string platform = "linux/amd64";
  // Replaces the diff id of layer i in the config (to test verification); "" keeps the real one.
  std::vector<std::string> diff_id_override;
  // Fields merged over the config's "config" object (Env, Entrypoint, Cmd, User, ...).
  Json config = Json::object();
};

// Stores the layers, config and manifest; returns the manifest digest ("sha256:…").
std::string store_test_image(runtime::image::ContentStore& store,
                             const std::vector<LayerTar>& layers,
                             const TestImageOptions& options = {});

// Stores an OCI index over `manifests` (digest, "os/arch[/variant]"); returns its digest.
std::string store_test_index(runtime::image::ContentStore& store,
                             const std::vector<std::pair<std::string, std::string>>& manifests);

}  // namespace gantry::testing
