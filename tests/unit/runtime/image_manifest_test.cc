#include <gtest/gtest.h>

#include "runtime/image/manifest.h"

namespace gantry::runtime::image {
namespace {

std::string dig(char c) { return "sha256:" + std::string(64, c); }

Json descriptor(std::string_view mt, char c, int64_t size) {
  return Json{{"mediaType", mt}, {"digest", dig(c)}, {"size", size}};
}

Json image_manifest(std::string_view mt, std::string_view config_mt, std::string_view layer_mt) {
  Json j{{"schemaVersion", 2},
         {"mediaType", mt},
         {"config", descriptor(config_mt, 'c', 1234)},
         {"layers", Json::array({descriptor(layer_mt, '1', 100), descriptor(layer_mt, '2', 200)})}};
  return j;
}

Json entry(char c, const char* os, const char* arch, const char* variant = nullptr) {
  Json d = descriptor(media_type::kOciManifest, c, 500);
  d["platform"] = Json{{"os", os}, {"architecture", arch}};
  if (variant) d["platform"]["variant"] = variant;
  return d;
}

TEST(ManifestTest, ParsesOciAndDockerImageManifests) {
  for (auto [mt, cfg, layer, kind] :
       {std::tuple{media_type::kOciManifest, media_type::kOciConfig, media_type::kOciLayerGzip,
                   ManifestKind::kOciManifest},
        std::tuple{media_type::kDockerManifest, media_type::kDockerConfig,
                   media_type::kDockerLayerGzip, ManifestKind::kDockerManifest}}) {
    auto m = parse_manifest(image_manifest(mt, cfg, layer).dump());
    ASSERT_TRUE(m.ok()) << m.error().message();
    EXPECT_EQ(m->kind, kind);
    EXPECT_FALSE(m->is_index());
    EXPECT_EQ(m->image.config.digest, dig('c'));
    EXPECT_EQ(m->image.config.size, 1234);
    ASSERT_EQ(m->image.layers.size(), 2u);
    EXPECT_EQ(m->image.layers[1].digest, dig('2'));
    EXPECT_EQ(m->image.layers[1].media_type, layer);
  }
}

TEST(ManifestTest, ParsesOciIndexAndDockerManifestList) {
  for (auto [mt, kind] : {std::pair{media_type::kOciIndex, ManifestKind::kOciIndex},
                          std::pair{media_type::kDockerManifestList,
                                    ManifestKind::kDockerManifestList}}) {
    Json j{{"schemaVersion", 2},
           {"mediaType", mt},
           {"manifests",
            Json::array({entry('a', "linux", "amd64"), entry('b', "linux", "arm64", "v8")})}};
    auto m = parse_manifest(j.dump());
    ASSERT_TRUE(m.ok()) << m.error().message();
    EXPECT_EQ(m->kind, kind);
    ASSERT_TRUE(m->is_index());
    ASSERT_EQ(m->index.manifests.size(), 2u);
    EXPECT_EQ(m->index.manifests[1].platform->variant, "v8");
  }
}

TEST(ManifestTest, TypeFromContentTypeThenShapeWhenMediaTypeIsAbsent) {
  Json j = image_manifest(media_type::kDockerManifest, media_type::kDockerConfig,
                          media_type::kDockerLayerGzip);
  j.erase("mediaType");
  auto from_header =
      parse_manifest(j.dump(), std::string(media_type::kDockerManifest) + "; charset=utf-8");
  ASSERT_TRUE(from_header.ok());
  EXPECT_EQ(from_header->kind, ManifestKind::kDockerManifest);
  auto from_shape = parse_manifest(j.dump(), "application/json");
  ASSERT_TRUE(from_shape.ok());
  EXPECT_EQ(from_shape->kind, ManifestKind::kOciManifest);
  Json idx{{"schemaVersion", 2}, {"manifests", Json::array({entry('a', "linux", "amd64")})}};
  EXPECT_EQ(parse_manifest(idx.dump())->kind, ManifestKind::kOciIndex);
}

TEST(ManifestTest, ErrorsNameTheField) {
  Json j = image_manifest(media_type::kOciManifest, media_type::kOciConfig, media_type::kOciLayer);
  j["layers"][1]["digest"] = "sha256:nothex";
  auto r = parse_manifest(j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("manifest.layers[1].digest: "), std::string::npos)
      << r.error().message();

  j = image_manifest(media_type::kOciManifest, media_type::kOciConfig, media_type::kOciLayer);
  j["config"]["size"] = -1;
  EXPECT_NE(parse_manifest(j.dump()).error().message().find("manifest.config.size"),
            std::string::npos);
  j.erase("config");
  EXPECT_EQ(parse_manifest(j.dump()).error().message(), "manifest.config: missing");

  auto schema1 = parse_manifest(R"({"schemaVersion":1,"name":"x"})");
  EXPECT_EQ(schema1.error().code(), ErrorCode::kUnimplemented);
  auto unknown = parse_manifest(R"({"schemaVersion":2,"mediaType":"text/plain"})");
  EXPECT_EQ(unknown.error().message(), "manifest: unsupported media type 'text/plain'");
  EXPECT_FALSE(parse_manifest("{not json").ok());
  EXPECT_FALSE(parse_manifest("[]").ok());
  EXPECT_EQ(parse_manifest(R"({"schemaVersion":2,"mediaType":")" +
                           std::string(media_type::kOciIndex) + R"("})")
                .error()
                .message(),
            "manifest.manifests: missing or not an array");
}

TEST(PlatformTest, ParsesAndNormalizes) {
  EXPECT_EQ(parse_platform("linux/amd64")->str(), "linux/amd64");
  EXPECT_EQ(parse_platform("linux/x86_64")->str(), "linux/amd64");
  EXPECT_EQ(parse_platform("linux/aarch64")->str(), "linux/arm64");
  EXPECT_EQ(parse_platform("linux/arm64/v8")->str(), "linux/arm64");
  EXPECT_EQ(parse_platform("linux/arm")->str(), "linux/arm/v7");
  EXPECT_EQ(parse_platform("linux/armhf")->str(), "linux/arm/v7");
  EXPECT_EQ(parse_platform("linux/arm/6")->str(), "linux/arm/v6");
  EXPECT_EQ(parse_platform("Linux/AMD64")->str(), "linux/amd64");
  for (const char* bad : {"linux", "linux/", "/amd64", "linux/arm/v7/x", "linux/am d64", ""}) {
    auto r = parse_platform(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message().find(std::string("platform '") + bad + "'"), std::string::npos);
  }
  EXPECT_EQ(host_platform().os, "linux");
}

TEST(PlatformTest, ChoosesExactVariantThenCompatible) {
  ImageIndex index;
  Json list = Json::array({entry('a', "linux", "amd64"), entry('b', "linux", "arm64", "v8"),
                           entry('c', "linux", "arm", "v6"), entry('d', "linux", "arm", "v7"),
                           entry('e', "unknown", "unknown")});
  for (auto& e : list) {
    Descriptor d;
    d.digest = e["digest"];
    Platform p{e["platform"]["os"], e["platform"]["architecture"],
               e["platform"].value("variant", "")};
    d.platform = p;
    index.manifests.push_back(d);
  }
  EXPECT_EQ(select_platform(index, *parse_platform("linux/amd64"))->digest, dig('a'));
  EXPECT_EQ(select_platform(index, *parse_platform("linux/arm64"))->digest, dig('b'));
  EXPECT_EQ(select_platform(index, *parse_platform("linux/arm/v7"))->digest, dig('d'));
  EXPECT_EQ(select_platform(index, *parse_platform("linux/arm/v6"))->digest, dig('c'));
  index.manifests.erase(index.manifests.begin() + 3);  // no v7 left: v6 runs on v7
  EXPECT_EQ(select_platform(index, *parse_platform("linux/arm/v7"))->digest, dig('c'));
  auto none = select_platform(index, *parse_platform("linux/s390x"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(none.error().message(),
            "no image for platform linux/s390x (have linux/amd64, linux/arm64, linux/arm/v6)");
  EXPECT_FALSE(platform_matches(*parse_platform("linux/arm/v6"), *parse_platform("linux/arm/v7")));
  EXPECT_FALSE(platform_matches(*parse_platform("windows/amd64"), *parse_platform("linux/amd64")));
}

TEST(ManifestTest, LayerCompressionFromMediaType) {
  EXPECT_EQ(*layer_compression(media_type::kOciLayer), Compression::kNone);
  EXPECT_EQ(*layer_compression(media_type::kOciLayerGzip), Compression::kGzip);
  EXPECT_EQ(*layer_compression(media_type::kDockerLayerGzip), Compression::kGzip);
  EXPECT_EQ(*layer_compression(media_type::kOciLayerZstd), Compression::kZstd);
  EXPECT_EQ(layer_compression(media_type::kOciConfig).error().code(), ErrorCode::kUnimplemented);
}

TEST(ImageConfigTest, ParsesRunSettingsAndDiffIds) {
  Json j{{"architecture", "amd64"},
         {"os", "linux"},
         {"created", "2024-01-01T00:00:00Z"},
         {"config",
          {{"Env", {"PATH=/usr/bin", "A=b=c"}},
           {"Entrypoint", {"/entry"}},
           {"Cmd", nullptr},
           {"WorkingDir", "/src"},
           {"User", "1000:1000"},
           {"Labels", {{"k", "v"}}},
           {"ExposedPorts", {{"80/tcp", Json::object()}}}}},
         {"rootfs", {{"type", "layers"}, {"diff_ids", {dig('1'), dig('2')}}}}};
  auto c = parse_image_config(j.dump());
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->platform.str(), "linux/amd64");
  EXPECT_EQ(c->env, (std::vector<std::string>{"PATH=/usr/bin", "A=b=c"}));
  EXPECT_EQ(c->entrypoint, std::vector<std::string>{"/entry"});
  EXPECT_TRUE(c->cmd.empty());
  EXPECT_EQ(c->working_dir, "/src");
  EXPECT_EQ(c->user, "1000:1000");
  EXPECT_EQ(c->labels.at("k"), "v");
  EXPECT_EQ(c->exposed_ports, std::vector<std::string>{"80/tcp"});
  EXPECT_EQ(c->diff_ids.size(), 2u);

  j["rootfs"]["diff_ids"][1] = "sha256:zz";
  EXPECT_NE(parse_image_config(j.dump()).error().message().find("image config.rootfs.diff_ids[1]"),
            std::string::npos);
  j["config"]["Env"] = "PATH=/bin";
  EXPECT_EQ(parse_image_config(j.dump()).error().message(),
            "image config.config.Env: expected an array of strings");
  j["config"]["Env"] = Json::array();
  j.erase("rootfs");
  EXPECT_EQ(parse_image_config(j.dump()).error().message(), "image config.rootfs: missing");
}

TEST(ChainIdTest, MatchesKnownValues) {
  // sha256("a"), sha256("b"), sha256("c") as diff ids; chain ids computed independently with
  // sha256sum over "<chain> <diff>".
  std::vector<std::string> diff = {
      "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
      "sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d",
      "sha256:2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6"};
  auto chain = chain_ids(diff);
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0], diff[0]);
  EXPECT_EQ(chain[1], "sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676");
  EXPECT_EQ(chain[2], "sha256:2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106");
  EXPECT_TRUE(chain_ids({}).empty());
}

}  // namespace
}  // namespace gantry::runtime::image
