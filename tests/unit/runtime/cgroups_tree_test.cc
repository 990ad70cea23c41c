#include <gtest/gtest.h>

#include "common/file.h"
#include "runtime/cgroups/tree.h"
#include "tests/fakes/fake_cgroup_fs.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime {
namespace {

using gantry::testing::FakeCgroupFs;

TEST(CgroupTreeTest, ValidatesPaths) {
  EXPECT_TRUE(validate_cgroup_path("/gantry/job-1").ok());
  EXPECT_TRUE(validate_cgroup_path("/a").ok());
  for (const char* bad : {"", "/", "gantry/x", "/a//b", "/a/", "/a/./b", "/a/..", "/../x"}) {
    Status s = validate_cgroup_path(bad);
    EXPECT_FALSE(s.ok()) << bad;
    if (!s.ok()) {
      EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument) << bad;
    }
  }
}

TEST(CgroupTreeTest, SplitsPaths) {
  EXPECT_EQ(cgroup_path_components("/a/b/c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(cgroup_path_components("/").empty());
}

class CgroupPruneTest : public ::testing::Test {
 protected:
  CgroupPruneTest() : fs_(FakeCgroupFs::Flavour::kV2) { fs_.make_cgroup(root()); }
  std::string root() const { return tmp_.path() + "/cg"; }
  gantry::testing::TempDir tmp_;
  FakeCgroupFs fs_;
};

TEST_F(CgroupPruneTest, RemovesEmptyParentsUpToAndIncludingGantry) {
  fs_.make_cgroup(root() + "/gantry/team/sub");
  remove_empty_gantry_parents(fs_, root(), "/gantry/team/sub/job");
  EXPECT_FALSE(path_exists(root() + "/gantry"));
  EXPECT_TRUE(path_exists(root()));
}

TEST_F(CgroupPruneTest, StopsAtAParentInUse) {
  fs_.make_cgroup(root() + "/gantry/team");
  fs_.make_cgroup(root() + "/gantry/other-job");
  remove_empty_gantry_parents(fs_, root(), "/gantry/team/job");
  EXPECT_FALSE(path_exists(root() + "/gantry/team"));
  EXPECT_TRUE(path_exists(root() + "/gantry/other-job"));
  EXPECT_TRUE(path_exists(root() + "/gantry"));
}

TEST_F(CgroupPruneTest, LeavesParentsOutsideGantryAlone) {
  fs_.make_cgroup(root() + "/gantryish/x");
  fs_.make_cgroup(root() + "/ci");
  remove_empty_gantry_parents(fs_, root(), "/gantryish/x/job");
  remove_empty_gantry_parents(fs_, root(), "/ci/job");
  EXPECT_TRUE(path_exists(root() + "/gantryish/x"));
  EXPECT_TRUE(path_exists(root() + "/ci"));
  EXPECT_TRUE(fs_.removed_dirs().empty());
}

TEST_F(CgroupPruneTest, RemoveTreeGoesDeepestFirst) {
  fs_.make_cgroup(root() + "/gantry/job/a/b");
  fs_.make_cgroup(root() + "/gantry/job/c");
  ASSERT_TRUE(remove_cgroup_tree(fs_, root() + "/gantry/job").ok());
  EXPECT_EQ(fs_.removed_dirs(),
            (std::vector<std::string>{root() + "/gantry/job/a/b", root() + "/gantry/job/a",
                                      root() + "/gantry/job/c", root() + "/gantry/job"}));
  EXPECT_TRUE(remove_cgroup_tree(fs_, root() + "/gantry/job").ok());  // gone already: fine
}

}  // namespace
}  // namespace gantry::runtime
