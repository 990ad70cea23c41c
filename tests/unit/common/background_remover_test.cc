#include "common/background_remover.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "tests/support/temp_dir.h"

namespace gantry {
namespace {

// A tree of a few levels with files, like a bundle or a workspace.
std::string make_tree(const testing::TempDir& dir, const std::string& name) {
  std::string top = dir.file(name);
  EXPECT_TRUE(make_dirs(top + "/a/b/c").ok());
  EXPECT_TRUE(write_file(top + "/a/f", "x").ok());
  EXPECT_TRUE(write_file(top + "/a/b/c/g", "y").ok());
  return top;
}

TEST(BackgroundRemoverTest, DrainReturnsOnceEveryQueuedTreeIsGone) {
  testing::TempDir dir;
  BackgroundRemover remover;
  std::vector<std::string> trees;
  for (int i = 0; i < 20; ++i) trees.push_back(make_tree(dir, "t" + std::to_string(i)));
  for (const auto& t : trees) remover.remove(t);
  remover.drain();
  for (const auto& t : trees) EXPECT_FALSE(path_exists(t)) << t;
  remover.drain();  // nothing queued: returns at once
}

TEST(BackgroundRemoverTest, DestructorFinishesWhatIsQueued) {
  testing::TempDir dir;
  std::string a = make_tree(dir, "a"), b = make_tree(dir, "b");
  {
    BackgroundRemover remover;
    remover.remove(a);
    remover.remove(b);
  }
  EXPECT_FALSE(path_exists(a));
  EXPECT_FALSE(path_exists(b));
}

TEST(BackgroundRemoverTest, AMissingPathOrAFileIsFine) {
  testing::TempDir dir;
  std::string file = dir.file("plain");
  ASSERT_TRUE(write_file(file, "z").ok());
  BackgroundRemover remover;
  remover.remove(dir.file("never-made"));
  remover.remove(file);
  remover.drain();
  EXPECT_FALSE(path_exists(file));
}

}  // namespace
}  // namespace gantry
