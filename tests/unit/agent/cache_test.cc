// Cache keys (GitLab's key, key:files, key:prefix rules), when caches are saved, and the store:
// save then restore through a real tar on disk.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/cache.h"
#include "agent/tar_archive.h"
#include "common/sha1.h"
#include "common/file.h"
#include "common/subprocess.h"
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

// git in `dir`, failing the test when it fails; returns its trimmed stdout.
std::string git(const std::string& dir, std::vector<std::string> args) {
  std::vector<std::string> argv = {"git", "-C", dir, "-c", "user.name=t", "-c", "user.email=t@e",
                                   "-c", "commit.gpgsign=false"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_subprocess(argv);
  EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->err : r.error().message());
  std::string out = r.ok() ? r->out : "";
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void commit_file(const std::string& dir, const std::string& name, const std::string& content,
                 const std::string& message) {
  ASSERT_TRUE(write_file(join_path(dir, name), content).ok());
  git(dir, {"add", name});
  git(dir, {"commit", "-qm", message});
}

TEST(CacheKeyTest, KeyFilesHashTheCommitsThatLastChangedThem) {
  testing::TempDir tmp;
  std::string repo = tmp.path();
  git(repo, {"init", "-q"});
  commit_file(repo, "Gemfile.lock", "rake 13\n", "one");
  commit_file(repo, "README", "hello\n", "two");
  std::string first = git(repo, {"rev-parse", "HEAD~1"});
  VariableSet vars;
  vars.set("CI_JOB_NAME", "test");
  Cache c;
  c.key_files = {"Gemfile.lock", "missing.lock"};
  // GitLab: SHA1 of the sorted unique ids of the last commits that changed the files.
  std::string k1 = cache_key(c, vars, repo).value();
  EXPECT_EQ(k1, sha1_hex(first));
  EXPECT_EQ(k1, key_files_digest({first, std::nullopt}));

  // Another file committed: same key. An uncommitted edit: same key.
  commit_file(repo, "README", "hello again\n", "three");
  EXPECT_EQ(cache_key(c, vars, repo).value(), k1);
  ASSERT_TRUE(write_file(join_path(repo, "Gemfile.lock"), "rake 99\n").ok());
  EXPECT_EQ(cache_key(c, vars, repo).value(), k1);

  // The file committed again: a new key, from that commit.
  commit_file(repo, "Gemfile.lock", "rake 14\n", "four");
  std::string fourth = git(repo, {"rev-parse", "HEAD"});
  std::string k2 = cache_key(c, vars, repo).value();
  EXPECT_NE(k1, k2);
  EXPECT_EQ(k2, sha1_hex(fourth));
  // At an older revision the older commit counts.
  EXPECT_EQ(cache_key(c, vars, repo, first).value(), k1);

  // Two files: both commits, sorted and joined by '-'.
  commit_file(repo, "yarn.lock", "left-pad\n", "five");
  std::string fifth = git(repo, {"rev-parse", "HEAD"});
  c.key_files = {"yarn.lock", "Gemfile.lock"};
  std::string a = std::min(fourth, fifth), b = std::max(fourth, fifth);
  EXPECT_EQ(cache_key(c, vars, repo).value(), sha1_hex(a + "-" + b));

  c.key_prefix = "$CI_JOB_NAME";
  EXPECT_EQ(cache_key(c, vars, repo).value(), "test-" + sha1_hex(a + "-" + b));
  // No file with a commit: GitLab's "default", after the prefix.
  c.key_files = {"none.lock"};
  EXPECT_EQ(cache_key(c, vars, repo).value(), "test-default");
  ASSERT_TRUE(write_file(join_path(repo, "untracked.lock"), "x\n").ok());
  c.key_files = {"untracked.lock"};
  EXPECT_EQ(cache_key(c, vars, repo).value(), "test-default");
}

TEST(CacheKeyTest, KeyFilesOutsideAGitRepositoryAreDefault) {
  testing::TempDir tmp;
  ASSERT_TRUE(write_file(tmp.file("Gemfile.lock"), "rake 13\n").ok());
  VariableSet vars;
  Cache c;
  c.key_files = {"Gemfile.lock"};
  EXPECT_EQ(cache_key(c, vars, tmp.path()).value(), "default");
  EXPECT_EQ(key_files_digest({}), "default");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");  // FIPS 180 vector
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
  ASSERT_TRUE(
      store.save("k1", tmp.file("ws1"), {".cache", ".cache/sub", ".cache/sub/dep.bin"}).ok());
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
  ASSERT_TRUE(
      write_file(
          tmp.file("bad.tar"),
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
