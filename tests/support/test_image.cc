#include "tests/support/test_image.h"

#include <stdexcept>

#include "common/json.h"

namespace gantry::testing {

namespace image = runtime::image;

namespace {
std::string put(image::ContentStore& store, const std::string& bytes) {
  auto d = store.put_new(bytes);
  if (!d.ok()) throw std::runtime_error(d.error().message());
  return d->str();
}
}  // namespace

std::string store_test_image(image::ContentStore& store, const std::vector<LayerTar>& layers,
                             const TestImageOptions& options) {
  Json diff_ids = Json::array(), descs = Json::array();
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string blob = layers[i].build(options.compression);
    std::string mt(
        options.compression == image::Compression::kGzip   ? image::media_type::kOciLayerGzip
        : options.compression == image::Compression::kZstd ? image::media_type::kOciLayerZstd
                                                           : image::media_type::kOciLayer);
    descs.push_back({{"mediaType", mt}, {"digest", put(store, blob)}, {"size", blob.size()}});
    std::string diff = layers[i].diff_id();
    if (i < options.diff_id_override.size() && !options.diff_id_override[i].empty())
      diff = options.diff_id_override[i];
    diff_ids.push_back(diff);
  }
  auto p = image::parse_platform(options.platform);
  Json config{{"architecture", p->architecture},
              {"os", p->os},
              {"created", "2024-05-01T12:00:00Z"},
              {"config", {{"Env", {"PATH=/bin"}}, {"Cmd", {"/bin/sh"}}}},
              {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  if (!p->variant.empty()) config["variant"] = p->variant;
  config["config"].update(options.config);
  std::string cfg = config.dump();
  Json manifest{{"schemaVersion", 2},
                {"mediaType", image::media_type::kOciManifest},
                {"config",
                 {{"mediaType", image::media_type::kOciConfig},
                  {"digest", put(store, cfg)},
                  {"size", cfg.size()}}},
                {"layers", descs}};
  return put(store, manifest.dump());
}

std::string store_test_index(image::ContentStore& store,
                             const std::vector<std::pair<std::string, std::string>>& manifests) {
  Json list = Json::array();
  for (const auto& [digest, platform] : manifests) {
    auto p = image::parse_platform(platform);
    Json plat{{"os", p->os}, {"architecture", p->architecture}};
    if (!p->variant.empty()) plat["variant"] = p->variant;
    auto d = gantry::parse_digest(digest);
    list.push_back({{"mediaType", image::media_type::kOciManifest},
                    {"digest", digest},
                    {"size", *store.blob_size(*d)},
                    {"platform", plat}});
  }
  Json index{
      {"schemaVersion", 2}, {"mediaType", image::media_type::kOciIndex}, {"manifests", list}};
  return put(store, index.dump());
}

}  // namespace gantry::testing
