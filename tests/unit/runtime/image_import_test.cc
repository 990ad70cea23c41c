#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/digest.h"
#include "common/file.h"
#include "common/json.h"
#include "runtime/image/import.h"
#include "tests/support/layer_tar.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime::image {
namespace {

using gantry::testing::LayerTar;
using gantry::testing::TempDir;
namespace fs = std::filesystem;

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ImageStore::open(dir_.file("state"), UnpackOptions{.privileged = false});
    ASSERT_TRUE(s.ok()) << s.error().message();
    store_ = *s;
  }
  std::string only_lower(const ImageRecord& r) {
    auto dirs = store_->lower_dirs(r);
    EXPECT_TRUE(dirs.ok());
    return dirs.ok() && dirs->size() == 1 ? (*dirs)[0] : "";
  }
  // Writes `bytes` as blobs/sha256/<hex> of an OCI layout at `layout`; returns the digest.
  std::string blob(const std::string& layout, const std::string& bytes) {
    std::string hex = sha256_hex(bytes);
    EXPECT_TRUE(make_dirs(layout + "/blobs/sha256").ok());
    EXPECT_TRUE(write_file(layout + "/blobs/sha256/" + hex, bytes).ok());
    return "sha256:" + hex;
  }
  // An OCI layout with one single-layer image; returns the manifest digest.
  std::string make_layout(const std::string& layout, const LayerTar& layer,
                          const Json& annotations) {
    std::string gz = layer.build(Compression::kGzip);
    std::string config = Json{{"os", "linux"}, {"architecture", "amd64"},
                              {"config", {{"Env", {"A=1"}}}},
                              {"rootfs", {{"type", "layers"}, {"diff_ids", {layer.diff_id()}}}}}
                             .dump();
    Json manifest{{"schemaVersion", 2},
                  {"mediaType", media_type::kOciManifest},
                  {"config",
                   {{"mediaType", media_type::kOciConfig},
                    {"digest", blob(layout, config)},
                    {"size", config.size()}}},
                  {"layers",
                   {{{"mediaType", media_type::kOciLayerGzip},
                     {"digest", blob(layout, gz)},
                     {"size", gz.size()}}}}};
    std::string m = manifest.dump();
    std::string md = blob(layout, m);
    Json index{{"schemaVersion", 2},
               {"manifests", {{{"mediaType", media_type::kOciManifest}, {"digest", md},
                               {"size", m.size()}, {"annotations", annotations}}}}};
    EXPECT_TRUE(write_file(layout + "/index.json", index.dump()).ok());
    EXPECT_TRUE(write_file(layout + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})").ok());
    return md;
  }

  TempDir dir_;
  std::shared_ptr<ImageStore> store_;
  Platform host_ = host_platform();
};

TEST_F(ImportTest, DirectoryBecomesOneLayerImageWithConfig) {
  std::string rootfs = dir_.file("rootfs");
  ASSERT_TRUE(make_dirs(rootfs + "/etc").ok());
  ASSERT_TRUE(write_file(rootfs + "/etc/os-release", "ID=test\n").ok());
  ASSERT_EQ(::link((rootfs + "/etc/os-release").c_str(), (rootfs + "/etc/hard").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/os-release", (rootfs + "/rel").c_str()), 0);
  ImportOptions opts;
  opts.cmd = {"/bin/sh", "-c", "true"};
  opts.user = "1000";
  auto rec = import_rootfs(*store_, rootfs, "localhost/imp:1", opts);
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->name, "localhost/imp:1");
  auto cfg = store_->config(*rec);
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->cmd, opts.cmd);
  EXPECT_EQ(cfg->user, "1000");
  EXPECT_EQ(cfg->platform.os, "linux");
  std::string lower = only_lower(*rec);
  EXPECT_EQ(*read_file(lower + "/etc/os-release"), "ID=test\n");
  struct stat a, b;
  ASSERT_EQ(::stat((lower + "/etc/os-release").c_str(), &a), 0);
  ASSERT_EQ(::stat((lower + "/etc/hard").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(fs::read_symlink(lower + "/rel"), "/etc/os-release");
}

TEST_F(ImportTest, TarballsPlainAndCompressed) {
  LayerTar tar;
  tar.dir("bin").file("bin/tool", "t", 0755);
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    std::string path = dir_.file("rootfs.tar");
    ASSERT_TRUE(write_file(path, tar.build(c)).ok());
    auto rec = import_rootfs(*store_, path, "localhost/tb:" + std::to_string(static_cast<int>(c)));
    ASSERT_TRUE(rec.ok()) << rec.error().message();
    // The diff id is the hash of the tar as given, whatever its compression.
    EXPECT_EQ(rec->chain_ids[0], tar.diff_id());
    EXPECT_EQ(*read_file(only_lower(*rec) + "/bin/tool"), "t");
  }
  auto missing = import_rootfs(*store_, dir_.file("nope"), "localhost/x:1");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(),
            "import '" + dir_.file("nope") + "': stat '" + dir_.file("nope") +
                "': no such file or directory");
}

TEST_F(ImportTest, LoadsOciLayoutDirectoryAndTar) {
  std::string layout = dir_.file("layout");
  LayerTar layer;
  layer.file("hello", "world");
  std::string md = make_layout(layout, layer, {{"io.containerd.image.name", "localhost/app:v1"},
                                               {"org.opencontainers.image.ref.name", "v1"}});
  auto recs = load_images(*store_, layout, host_);
  ASSERT_TRUE(recs.ok()) << recs.error().message();
  ASSERT_EQ(recs->size(), 1u);
  EXPECT_EQ((*recs)[0].name, "localhost/app:v1");
  EXPECT_EQ((*recs)[0].digest, md);
  EXPECT_EQ(*read_file(only_lower((*recs)[0]) + "/hello"), "world");

  // The same layout as a tar, with only a tag for a name: --name is needed.
  LayerTar as_tar;
  std::string layout2 = dir_.file("layout2");
  make_layout(layout2, layer, {{"org.opencontainers.image.ref.name", "v2"}});
  for (auto& e : fs::recursive_directory_iterator(layout2)) {
    std::string rel = e.path().string().substr(layout2.size() + 1);
    if (e.is_directory()) as_tar.dir(rel);
    else as_tar.file(rel, *read_file(e.path()));
  }
  std::string tar_path = dir_.file("layout.tar");
  ASSERT_TRUE(write_file(tar_path, as_tar.build()).ok());
  auto unnamed = load_images(*store_, tar_path, host_);
  ASSERT_FALSE(unnamed.ok());
  EXPECT_EQ(unnamed.error().message(),
            "load '" + tar_path + "': index.json manifests[0] has no image name (only the tag "
            "'v2'): give one with --name");
  auto named = load_images(*store_, tar_path, host_, "localhost/app:v2");
  ASSERT_TRUE(named.ok()) << named.error().message();
  EXPECT_EQ((*named)[0].name, "localhost/app:v2");
  auto ingest = *list_dir(dir_.file("state/ingest"));
  for (const auto& n : ingest)
    EXPECT_FALSE(n.starts_with("load.")) << "temp dir left behind: " << n;
}

TEST_F(ImportTest, LoadRefusesBlobWhoseBytesDoNotMatch) {
  std::string layout = dir_.file("layout");
  LayerTar layer;
  layer.file("hello", "world");
  make_layout(layout, layer, {{"io.containerd.image.name", "localhost/app:v1"}});
  // Corrupt the layer blob in place.
  auto blobs = *list_dir(layout + "/blobs/sha256");
  for (const auto& n : blobs) {
    std::string p = layout + "/blobs/sha256/" + n;
    if (read_file(p)->starts_with("\x1f\x8b")) {
      ASSERT_TRUE(write_file(p, "tampered").ok());
    }
  }
  auto r = load_images(*store_, layout, host_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("size mismatch"), std::string::npos) << r.error().message();
  EXPECT_TRUE(store_->content().list_images()->empty());
  EXPECT_TRUE(store_->snapshots().list()->empty());
}

TEST_F(ImportTest, LoadsDockerSaveArchive) {
  std::string d = dir_.file("save");
  LayerTar l1, l2;
  l1.file("a", "1");
  l2.file("b", "2").whiteout("a");
  ASSERT_TRUE(make_dirs(d + "/l1").ok());
  ASSERT_TRUE(make_dirs(d + "/l2").ok());
  ASSERT_TRUE(write_file(d + "/l1/layer.tar", l1.build()).ok());
  ASSERT_TRUE(write_file(d + "/l2/layer.tar", l2.build(Compression::kGzip)).ok());
  std::string config =
      Json{{"os", "linux"},
           {"architecture", "amd64"},
           {"rootfs", {{"type", "layers"}, {"diff_ids", {l1.diff_id(), l2.diff_id()}}}}}
          .dump();
  ASSERT_TRUE(write_file(d + "/cfg.json", config).ok());
  Json manifest = Json::array({{{"Config", "cfg.json"},
                                {"RepoTags", {"busybox:1", "localhost:5000/bb:x"}},
                                {"Layers", {"l1/layer.tar", "l2/layer.tar"}}}});
  ASSERT_TRUE(write_file(d + "/manifest.json", manifest.dump()).ok());
  auto recs = load_images(*store_, d, host_);
  ASSERT_TRUE(recs.ok()) << recs.error().message();
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_EQ((*recs)[0].name, "docker.io/library/busybox:1");
  EXPECT_EQ((*recs)[1].name, "localhost:5000/bb:x");
  auto dirs = store_->lower_dirs((*recs)[0]);
  ASSERT_EQ(dirs->size(), 2u);
  EXPECT_EQ(*read_file((*dirs)[1] + "/b"), "2");
  auto neither = load_images(*store_, dir_.file("state"), host_);
  ASSERT_FALSE(neither.ok());
  EXPECT_NE(neither.error().message().find("neither an OCI image layout"), std::string::npos);
}

}  // namespace
}  // namespace gantry::runtime::image
