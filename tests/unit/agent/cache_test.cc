// Cache keys (GitLab's key, key:files, key:prefix rules), when caches are saved, and the store:
// save then restore through a real tar on disk.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/cache.h"
#include "agent/tar_archive.h"
#include "common/file.h"
#include "tests/support/layer_tar.h"
#include "tests/support/temp_dir.h"

namespace gantry::agent {
namespace {

using schema::Cache;
using schema::VariableSet;

TEST(CacheKeyTest, DefaultAndExpandedKeys) {
  testing::TempDir tmp;
  VariableSet vars;
  vars.set("CI_COMMIT_REF_SLUG", "main");
  vars.set("CI_JOB_NAME", "build");
  Cache c;
  EXPECT_EQ(cache_key(c, vars, tmp.path()).value(), "default");
  c.key = "$CI_JOB_NAME-${CI_COMMIT_REF_SLUG}";
  EXPECT_EQ(cache_key(c, vars, tmp.path()).value(), "build-main");
}

TEST(CacheKeyTest, KeyFilesHashTheirContentsWithPrefix) {
  testing::TempDir tmp;
  VariableSet vars;
  vars.set("CI_JOB_NAME", "test");
  ASSERT_TRUE(write_file(tmp.file("Gemfile.lock"), "rake 13\n").ok());
  Cache c;
  c.key_files = {"Gemfile.lock", "missing.lock"};
  std::string k1 = cache_key(c, vars, tmp.path()).value();
  EXPECT_EQ(k1.size(), 64u);
  ASSERT_TRUE(write_file(tmp.file("Gemfile.lock"), "rake 14\n").ok());
  std::string k2 = cache_key(c, vars, tmp.path()).value();
  EXPECT_NE(k1, k2);  // new contents, new cache
  c.key_prefix = "$CI_JOB_NAME";
  EXPECT_EQ(cache_key(c, vars, tmp.path()).value(), "test-" + k2);
  c.key_files = {"none.lock"};
  EXPECT_EQ(cache_key(c, vars, tmp.path()).value(), "test-default");
}

TEST(CacheKeyTest, SlashesAndDotsAreRejected) {
  testing::TempDir tmp;
  VariableSet vars;
  vars.set("REF", "feature/x");
  Cache c;
  c.key = "$REF";
  auto r = cache_key(c, vars, tmp.path());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("'feature/x'"), std::string::npos);
  c.key = "..";
  EXPECT_FALSE(cache_key(c, vars, tmp.path()).ok());
}

TEST(CacheKeyTest, WhenAndPolicy) {
  EXPECT_TRUE(cache_saved(schema::When::kOnSuccess, true));
  EXPECT_FALSE(cache_saved(schema::When::kOnSuccess, false));
  EXPECT_TRUE(cache_saved(schema::When::kOnFailure, false));
  EXPECT_FALSE(cache_saved(schema::When::kOnFailure, true));
  EXPECT_TRUE(cache_saved(schema::When::kAlways, false));
  Cache c;
  EXPECT_TRUE(cache_pulls(c));
  EXPECT_TRUE(cache_pushes(c));
  c.policy = "pull";
  EXPECT_FALSE(cache_pushes(c));
  c.policy = "push";
  EXPECT_FALSE(cache_pulls(c));
}

TEST(CacheStoreTest, SaveThenRestoreIntoAnotherWorkspace) {
  testing::TempDir tmp;
  ASSERT_TRUE(make_dirs(tmp.file("ws1/.cache/sub")).ok());
  ASSERT_TRUE(write_file(tmp.file("ws1/.cache/sub/dep.bin"), "cached bytes").ok());
  CacheStore store(tmp.file("caches"), "group/app");
  ASSERT_TRUE(store.save("k1", tmp.file("ws1"), {".cache", ".cache/sub", ".cache/sub/dep.bin"}).ok());
  EXPECT_TRUE(path_exists(store.archive_path("k1")));
  EXPECT_NE(store.archive_path("k1").find("group%2Fapp"), std::string::npos);
  ASSERT_TRUE(make_dirs(tmp.file("ws2")).ok());
  auto r = store.restore("k1", tmp.file("ws2"));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(*r);
  EXPECT_EQ(read_file(tmp.file("ws2/.cache/sub/dep.bin")).value(), "cached bytes");
  auto missing = store.restore("other", tmp.file("ws2"));
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(*missing);
}

TEST(TarArchiveTest, KeepsModesAndSymlinksAndRefusesEscapes) {
  testing::TempDir tmp;
  ASSERT_TRUE(make_dirs(tmp.file("src/bin")).ok());
  ASSERT_TRUE(write_file(tmp.file("src/bin/run"), "#!/bin/sh\n").ok());
  ASSERT_EQ(::chmod(tmp.file("src/bin/run").c_str(), 0751), 0);
  ASSERT_EQ(::symlink("run", tmp.file("src/bin/link").c_str()), 0);
  auto made = create_tar(tmp.file("src"), {"bin", "bin/link", "bin/run"}, tmp.file("a.tar"));
  ASSERT_TRUE(made.ok()) << made.error().message();
  EXPECT_EQ(made->entries, 3);
  ASSERT_TRUE(make_dirs(tmp.file("dst")).ok());
  auto x = extract_tar(tmp.file("a.tar"), tmp.file("dst"));
  ASSERT_TRUE(x.ok()) << x.error().message();
  struct stat st;
  ASSERT_EQ(::stat(tmp.file("dst/bin/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0751u);
  char target[16] = {};
  ASSERT_EQ(::readlink(tmp.file("dst/bin/link").c_str(), target, sizeof target - 1), 3);
  EXPECT_STREQ(target, "run");

}

TEST(TarArchiveTest, RefusesEntriesThatLeaveTheDestination) {
  testing::TempDir tmp;
  ASSERT_TRUE(make_dirs(tmp.file("dst/inner")).ok());
  for (const auto& tar : {testing::LayerTar().file("../escaped", "x"),
                          testing::LayerTar().file("/abs-escaped", "x")}) {
    ASSERT_TRUE(write_file(tmp.file("bad.tar"), tar.build()).ok());
    auto x = extract_tar(tmp.file("bad.tar"), tmp.file("dst/inner"));
    ASSERT_FALSE(x.ok());
    EXPECT_NE(x.error().message().find("entry '"), std::string::npos) << x.error().message();
  }
  // A symlink on the way is never written through: libarchive replaces it by a directory.
  ASSERT_TRUE(write_file(tmp.file("bad.tar"),
                         testing::LayerTar().symlink("out", tmp.file("dst")).file("out/escaped", "x").build())
                  .ok());
  (void)extract_tar(tmp.file("bad.tar"), tmp.file("dst/inner"));
  EXPECT_FALSE(path_exists(tmp.file("dst/escaped")));
  EXPECT_FALSE(path_exists(tmp.file("dst/escaped")));
  EXPECT_FALSE(path_exists("/abs-escaped"));
  EXPECT_FALSE(path_exists("/escaped"));
}

}  // namespace
}  // namespace gantry::agent
