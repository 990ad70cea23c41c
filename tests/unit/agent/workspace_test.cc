// Workspace copies: a git work tree gives tracked + untracked-not-ignored files and .git; a
// plain directory is copied whole; modes and symlinks are kept; listing skips .git.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/workspace.h"
#include "common/file.h"
#include "common/subprocess.h"
#include "tests/support/temp_dir.h"

namespace gantry::agent {
namespace {

void git(const std::string& dir, std::vector<std::string> args) {
  std::vector<std::string> argv = {"git", "-C", dir, "-c", "user.name=t", "-c", "user.email=t@e"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_subprocess(argv);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->err;
}

TEST(WorkspaceTest, GitTreeCopiesTrackedAndUntrackedButNotIgnored) {
  testing::TempDir tmp;
  std::string src = tmp.file("src");
  ASSERT_TRUE(make_dirs(src + "/sub").ok());
  git(src, {"init", "-q"});
  ASSERT_TRUE(write_file(src + "/.gitignore", "build/\n*.log\n").ok());
  ASSERT_TRUE(write_file(src + "/tracked.sh", "echo hi\n").ok());
  ASSERT_EQ(::chmod((src + "/tracked.sh").c_str(), 0755), 0);
  ASSERT_TRUE(write_file(src + "/sub/deleted", "x").ok());
  git(src, {"add", "."});
  git(src, {"commit", "-qm", "init"});
  ASSERT_EQ(::unlink((src + "/sub/deleted").c_str()), 0);
  ASSERT_TRUE(write_file(src + "/new.txt", "untracked").ok());
  ASSERT_TRUE(make_dirs(src + "/build").ok());
  ASSERT_TRUE(write_file(src + "/build/out.o", "ignored").ok());
  ASSERT_TRUE(write_file(src + "/debug.log", "ignored").ok());
  ASSERT_EQ(::symlink("tracked.sh", (src + "/link").c_str()), 0);

  std::string dst = tmp.file("dst");
  ASSERT_TRUE(make_dirs(dst).ok());
  auto r = copy_source_tree(src, dst);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(r->git);
  EXPECT_TRUE(path_exists(dst + "/tracked.sh"));
  EXPECT_TRUE(path_exists(dst + "/new.txt"));
  EXPECT_TRUE(path_exists(dst + "/.gitignore"));
  EXPECT_TRUE(is_directory(dst + "/.git"));
  EXPECT_FALSE(path_exists(dst + "/build"));
  EXPECT_FALSE(path_exists(dst + "/debug.log"));
  EXPECT_FALSE(path_exists(dst + "/sub/deleted"));
  struct stat st;
  ASSERT_EQ(::stat((dst + "/tracked.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  ASSERT_EQ(::lstat((dst + "/link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));

  // The copy is a working git repository: `git status` runs in it.
  auto status = run_subprocess({"git", "-C", dst, "status", "--porcelain"});
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->exit_code, 0) << status->err;

  auto untracked = git_untracked_files(dst);
  ASSERT_TRUE(untracked.ok()) << untracked.error().message();
  EXPECT_EQ(*untracked, (std::vector<std::string>{"link", "new.txt"}));

  auto entries = list_workspace(dst);
  ASSERT_TRUE(entries.ok());
  for (const auto& e : *entries) EXPECT_NE(e.path.rfind(".git/", 0), 0u) << e.path;
}

TEST(WorkspaceTest, PlainDirectoryIsCopiedWhole) {
  testing::TempDir tmp;
  ASSERT_TRUE(make_dirs(tmp.file("src/a/b")).ok());
  ASSERT_TRUE(write_file(tmp.file("src/a/b/c.txt"), "c").ok());
  ASSERT_EQ(::symlink("/etc/passwd", tmp.file("src/abs").c_str()), 0);
  ASSERT_TRUE(make_dirs(tmp.file("dst")).ok());
  auto r = copy_source_tree(tmp.file("src"), tmp.file("dst"));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_FALSE(r->git);
  EXPECT_EQ(read_file(tmp.file("dst/a/b/c.txt")).value(), "c");
  struct stat st;
  ASSERT_EQ(::lstat(tmp.file("dst/abs").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));  // copied as a link, not followed
  auto entries = list_workspace(tmp.file("dst"));
  ASSERT_TRUE(entries.ok());
  std::vector<std::string> paths;
  for (const auto& e : *entries) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"a", "a/b", "a/b/c.txt", "abs"}));
}

TEST(WorkspaceTest, MissingSourceIsNamed) {
  testing::TempDir tmp;
  auto r = copy_source_tree(tmp.file("nope"), tmp.path());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("nope"), std::string::npos);
}

}  // namespace
}  // namespace gantry::agent
