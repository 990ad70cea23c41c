#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/file.h"
#include "runtime/image/image_store.h"
#include "tests/support/test_image.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime::image {
namespace {

using gantry::testing::LayerTar;
using gantry::testing::store_test_image;
using gantry::testing::store_test_index;
using gantry::testing::TempDir;

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Unprivileged unpacking: these tests are about the store, not owners or devices.
    auto s = ImageStore::open(dir_.path(), UnpackOptions{.privileged = false});
    ASSERT_TRUE(s.ok()) << s.error().message();
    store_ = *s;
    base_.dir("bin").file("bin/sh", "shell", 0755);
    app_.file("app", "v1");
    other_.file("other", "o");
  }
  Platform amd64() { return *parse_platform("linux/amd64"); }
  ImageRecord commit(const std::string& name, const std::string& digest) {
    auto r = store_->commit_image(name, digest, amd64());
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? *r : ImageRecord{};
  }
  size_t snapshot_count() { return store_->snapshots().list()->size(); }

  TempDir dir_;
  std::shared_ptr<ImageStore> store_;
  LayerTar base_, app_, other_;
};

TEST_F(ImageStoreTest, LayersUnpackOnceAndAreSharedBetweenImages) {
  ImageRecord a =
      commit("docker.io/library/a:latest", store_test_image(store_->content(), {base_, app_}));
  EXPECT_EQ(a.layers.size(), 2u);
  EXPECT_EQ(a.chain_ids, chain_ids({base_.diff_id(), app_.diff_id()}));
  EXPECT_EQ(a.platform, "linux/amd64");
  EXPECT_EQ(a.created, "2024-05-01T12:00:00Z");
  EXPECT_EQ(snapshot_count(), 2u);
  ImageRecord b =
      commit("docker.io/library/b:latest", store_test_image(store_->content(), {base_, other_}));
  EXPECT_EQ(snapshot_count(), 3u);  // base shared
  EXPECT_EQ(a.chain_ids[0], b.chain_ids[0]);
  auto dirs = store_->lower_dirs(a);
  ASSERT_TRUE(dirs.ok());
  ASSERT_EQ(dirs->size(), 2u);
  EXPECT_EQ(*read_file((*dirs)[0] + "/bin/sh"), "shell");
  EXPECT_EQ(*read_file((*dirs)[1] + "/app"), "v1");
  EXPECT_EQ((*dirs)[0], dir_.file("snapshots/" + a.chain_ids[0].substr(7)));

  // Storing it again (a repeated pull) rewrites nothing: images.json keeps its inode.
  struct stat before, after;
  ASSERT_EQ(::stat(dir_.file("images.json").c_str(), &before), 0);
  ImageRecord again = commit(a.name, a.digest);
  ASSERT_EQ(::stat(dir_.file("images.json").c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_EQ(again.stored_at, a.stored_at);
}

TEST_F(ImageStoreTest, IndexPicksThePlatformsManifest) {
  std::string amd = store_test_image(store_->content(), {base_});
  std::string arm = store_test_image(store_->content(), {app_}, {.platform = "linux/arm64"});
  std::string index =
      store_test_index(store_->content(), {{amd, "linux/amd64"}, {arm, "linux/arm64/v8"}});
  auto rec =
      store_->commit_image("docker.io/library/multi:latest", index, *parse_platform("linux/arm64"));
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  EXPECT_EQ(rec->digest, index);
  EXPECT_EQ(rec->manifest_digest, arm);
  EXPECT_EQ(rec->platform, "linux/arm64");
  auto none =
      store_->commit_image("docker.io/library/multi:latest", index, *parse_platform("linux/s390x"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message(),
            "store image 'docker.io/library/multi:latest': no image for platform linux/s390x "
            "(have linux/amd64, linux/arm64)");
}

TEST_F(ImageStoreTest, DiffIdMismatchKeepsNoSnapshotAndNoRecord) {
  std::string wrong = "sha256:" + std::string(64, '0');
  std::string m = store_test_image(store_->content(), {app_}, {.diff_id_override = {wrong}});
  auto r = store_->commit_image("docker.io/library/bad:latest", m, amd64());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("diff id mismatch: got '" + app_.diff_id() + "', expected '" +
                                     wrong + "'"),
            std::string::npos)
      << r.error().message();
  EXPECT_EQ(snapshot_count(), 0u);
  EXPECT_TRUE(store_->content().list_images()->empty());
  EXPECT_EQ(*list_dir(dir_.file("snapshots")), std::vector<std::string>{".locks"});
}

TEST_F(ImageStoreTest, MissingLayerBlobIsNotFound) {
  std::string m = store_test_image(store_->content(), {base_, app_});
  auto rec = commit("docker.io/library/a:latest", m);
  ASSERT_TRUE(store_->content().remove(*parse_digest(rec.layers[1])).ok());
  ASSERT_TRUE(store_->snapshots().remove(rec.chain_ids[1]).ok());
  auto r = store_->commit_image("docker.io/library/a:latest", m, amd64());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.error().message().find("layer blob '" + rec.layers[1] + "' not in the store"),
            std::string::npos);
  auto dirs = store_->lower_dirs(rec);
  EXPECT_EQ(dirs.error().code(), ErrorCode::kNotFound);
}

TEST_F(ImageStoreTest, FindsByNameShortNameDigestAndIdPrefix) {
  std::string m = store_test_image(store_->content(), {base_});
  ImageRecord a = commit("docker.io/library/alpine:latest", m);
  commit("localhost:5000/team/app:v1", store_test_image(store_->content(), {app_}));
  EXPECT_EQ(store_->find("alpine")->name, a.name);
  EXPECT_EQ(store_->find("docker.io/library/alpine:latest")->name, a.name);
  EXPECT_EQ(store_->find("alpine@" + m)->name, a.name);
  EXPECT_EQ(store_->find(m)->name, a.name);
  EXPECT_EQ(store_->find(m.substr(7, 12))->name, a.name);
  EXPECT_EQ(store_->find("localhost:5000/team/app:v1")->name, "localhost:5000/team/app:v1");
  EXPECT_EQ(store_->find("alpine:3").error().message(), "image 'alpine:3' not found");
  EXPECT_EQ(store_->find("Bad Name").error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(ImageStoreTest, PruneKeepsWhatIsUsed) {
  // Uncompressed, so both images share the base layer's blob too (gzip headers carry a time).
  const gantry::testing::TestImageOptions plain{.compression = Compression::kNone};
  ImageRecord a = commit("docker.io/library/a:latest",
                         store_test_image(store_->content(), {base_, app_}, plain));
  ImageRecord b = commit("docker.io/library/b:latest",
                         store_test_image(store_->content(), {base_, other_}, plain));
  ASSERT_EQ(a.layers[0], b.layers[0]);
  Digest stray = *store_->content().put_new("stray blob");
  ASSERT_TRUE(store_->remove("b").ok());
  EXPECT_EQ(store_->find("b").error().code(), ErrorCode::kNotFound);

  auto report = store_->prune();
  ASSERT_TRUE(report.ok()) << report.error().message();
  // b's manifest, config and own layer, and the stray blob; b's top snapshot only.
  EXPECT_EQ(report->removed_blobs.size(), 4u);
  EXPECT_EQ(report->removed_snapshots, std::vector<std::string>{b.chain_ids[1]});
  EXPECT_FALSE(store_->content().has(stray));
  for (const auto& d : {a.digest, a.config_digest, a.layers[0], a.layers[1]})
    EXPECT_TRUE(store_->content().has(*parse_digest(d))) << d;
  auto dirs = store_->lower_dirs(*store_->find("a"));
  ASSERT_TRUE(dirs.ok()) << dirs.error().message();
  EXPECT_EQ(*read_file((*dirs)[1] + "/app"), "v1");
  // A second prune finds nothing to do.
  auto again = store_->prune();
  EXPECT_TRUE(again->removed_blobs.empty());
  EXPECT_TRUE(again->removed_snapshots.empty());
}

TEST_F(ImageStoreTest, PruneKeepsSnapshotsInUseAndStopsOnTheirError) {
  ImageRecord b = commit("docker.io/library/b:latest",
                         store_test_image(store_->content(), {base_, other_}));
  ASSERT_TRUE(store_->remove("b").ok());
  auto failing = store_->prune(
      []() -> Result<std::set<std::string>> { return Error(ErrorCode::kInternal, "unreadable"); });
  ASSERT_FALSE(failing.ok());
  EXPECT_EQ(failing.error().message(), "unreadable");
  EXPECT_TRUE(store_->snapshots().has(b.chain_ids[1]));  // nothing removed

  auto report = store_->prune([&]() -> Result<std::set<std::string>> {
    return std::set<std::string>(b.chain_ids.begin(), b.chain_ids.end());
  });
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_TRUE(report->removed_snapshots.empty());
  EXPECT_EQ(report->removed_blobs.size(), 4u);  // manifest, config, two layers
  auto last = store_->prune();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->removed_snapshots.size(), 2u);
}

}  // namespace
}  // namespace gantry::runtime::image

namespace gantry::runtime::image {
namespace {

TEST(ImageStoreConcurrencyTest, TwoProcessesStoringOneImageShareOneSnapshotPerLayer) {
  gantry::testing::TempDir dir;
  LayerTar base, app;
  base.dir("bin").file("bin/sh", std::string(200000, 's'), 0755);
  app.file("app", "v1");
  std::string m;
  {
    auto s = ImageStore::open(dir.path(), UnpackOptions{.privileged = false});
    ASSERT_TRUE(s.ok());
    m = gantry::testing::store_test_image((*s)->content(), {base, app});
  }
  std::vector<pid_t> kids;
  for (int i = 0; i < 3; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto s = ImageStore::open(dir.path(), UnpackOptions{.privileged = false});
      if (!s.ok()) ::_exit(2);
      auto lease = (*s)->content().lease();
      auto r =
          (*s)->commit_image("localhost/x:" + std::to_string(i), m, *parse_platform("linux/amd64"));
      ::_exit(r.ok() ? 0 : 1);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto s = ImageStore::open(dir.path(), UnpackOptions{.privileged = false});
  EXPECT_EQ((*s)->content().list_images()->size(), 3u);
  auto snaps = *(*s)->snapshots().list();
  EXPECT_EQ(snaps.size(), 2u);
  auto entries = *list_dir(dir.file("snapshots"));
  for (const auto& e : entries) EXPECT_FALSE(e.starts_with(".tmp-")) << e;
  auto dirs = (*s)->lower_dirs(*(*s)->find("localhost/x:2"));
  ASSERT_TRUE(dirs.ok());
  EXPECT_EQ(read_file((*dirs)[0] + "/bin/sh")->size(), 200000u);
}

}  // namespace
}  // namespace gantry::runtime::image
