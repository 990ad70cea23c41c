// GitCheckout against local repositories the test makes: a clean tree of the wanted commit,
// the mirror reused and fetched only when a commit is missing, a commit no branch points at,
// and clear errors for a bad URL or an unknown commit.
#include "agent/remote/git_checkout.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/subprocess.h"
#include "tests/support/temp_dir.h"

namespace gantry::agent {
namespace {

std::string git(const std::string& dir, std::vector<std::string> args) {
  std::vector<std::string> argv{"git", "-C", dir, "-c", "user.name=t", "-c", "user.email=t@e",
                                "-c", "init.defaultBranch=main"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_subprocess(argv);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  std::string out = r->out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class GitCheckoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = dir_.file("work");
    ASSERT_TRUE(make_dirs(work_).ok());
    git(work_, {"init", "-q"});
  }
  std::string commit(const std::string& file, const std::string& content) {
    EXPECT_TRUE(write_file(join_path(work_, file), content).ok());
    git(work_, {"add", "-A"});
    git(work_, {"commit", "-q", "-m", "change " + file});
    return git(work_, {"rev-parse", "HEAD"});
  }
  std::string bare() {
    std::string path = dir_.file("origin.git");
    if (!is_directory(path)) {
      auto r = run_subprocess({"git", "clone", "-q", "--bare", work_, path});
      EXPECT_EQ(r->exit_code, 0) << r->err;
    }
    return path;
  }
  void push() { git(work_, {"push", "-q", "--force", bare(), "HEAD:refs/heads/main"}); }

  testing::TempDir dir_;
  std::string work_;
};

TEST_F(GitCheckoutTest, ChecksOutTheExactCommitCleanly) {
  std::string first = commit("a.txt", "one\n");
  commit("a.txt", "two\n");
  bare();
  GitCheckout co(dir_.file("mirrors"));
  ASSERT_TRUE(co.checkout(bare(), first, dir_.file("job1")).ok());
  auto a = read_file(dir_.file("job1/a.txt"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, "one\n");
  EXPECT_EQ(git(dir_.file("job1"), {"rev-parse", "HEAD"}), first);
  EXPECT_EQ(git(dir_.file("job1"), {"status", "--porcelain"}), "");
  EXPECT_EQ(git(dir_.file("job1"), {"remote", "get-url", "origin"}), bare());
  EXPECT_TRUE(is_directory(co.mirror_path(bare())));
}

TEST_F(GitCheckoutTest, FetchesNewCommitsIntoTheExistingMirror) {
  commit("a.txt", "one\n");
  push();
  GitCheckout co(dir_.file("mirrors"));
  ASSERT_TRUE(co.checkout(bare(), git(work_, {"rev-parse", "HEAD"}), dir_.file("j1")).ok());
  std::string second = commit("b.txt", "new\n");
  push();
  auto st = co.checkout(bare(), second, dir_.file("j2"));
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_TRUE(path_exists(dir_.file("j2/b.txt")));
  EXPECT_FALSE(path_exists(dir_.file("j1/b.txt")));
}

TEST_F(GitCheckoutTest, FindsACommitNoBranchPointsAtAnyMore) {
  commit("a.txt", "one\n");
  std::string dropped = commit("a.txt", "force-pushed away\n");
  push();
  GitCheckout co(dir_.file("mirrors"));
  ASSERT_TRUE(co.checkout(bare(), dropped, dir_.file("j0")).ok());
  git(work_, {"reset", "-q", "--hard", "HEAD~1"});
  std::string other = commit("c.txt", "x\n");
  push();
  // The mirror's fetch prunes the old head, but the commit is still in its objects.
  auto st = co.checkout(bare(), other, dir_.file("j1"));
  ASSERT_TRUE(st.ok()) << st.error().message();
  st = co.checkout(bare(), dropped, dir_.file("j2"));
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(*read_file(dir_.file("j2/a.txt")), "force-pushed away\n");
}

TEST_F(GitCheckoutTest, UnknownCommitIsNotFoundAndLeavesNothing) {
  commit("a.txt", "one\n");
  push();
  GitCheckout co(dir_.file("mirrors"));
  std::string sha(40, 'a');
  auto st = co.checkout(bare(), sha, dir_.file("j"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(st.error().message().find("check out '" + sha + "' of '" + bare() + "': commit '" +
                                      sha + "' is not in '" + bare() + "'"),
            std::string::npos)
      << st.error().message();
  EXPECT_FALSE(path_exists(dir_.file("j")));
}

TEST_F(GitCheckoutTest, UnreachableRepositoryNamesTheUrl) {
  GitCheckout co(dir_.file("mirrors"));
  std::string url = dir_.file("no-such-repo.git");
  auto st = co.checkout(url, std::string(40, 'b'), dir_.file("j"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("clone '" + url + "': "), std::string::npos)
      << st.error().message();
  EXPECT_FALSE(path_exists(co.mirror_path(url)));
  EXPECT_FALSE(path_exists(dir_.file("j")));
}

TEST_F(GitCheckoutTest, RejectsWhatIsNotACommitId) {
  GitCheckout co(dir_.file("mirrors"));
  auto st = co.checkout(bare(), "main; rm -rf /", dir_.file("j"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace gantry::agent
