#include <gtest/gtest.h>

#include "runtime/cgroups/factory.h"

namespace gantry::runtime {
namespace {

TEST(CgroupFactoryTest, ResolvesCgroupsPath) {
  EXPECT_EQ(*resolve_cgroup_path("", "job-42"), "/gantry/job-42");
  EXPECT_EQ(*resolve_cgroup_path("/ci/job-42", "job-42"), "/ci/job-42");
  EXPECT_EQ(*resolve_cgroup_path("team/job-42", "job-42"), "/gantry/team/job-42");
  EXPECT_EQ(*resolve_cgroup_path("/ci/job-42/", "x"), "/ci/job-42");
}

TEST(CgroupFactoryTest, SystemdPathIsUnimplemented) {
  auto r = resolve_cgroup_path("system.slice:gantry:job-42", "job-42");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnimplemented);
  EXPECT_NE(r.error().message().find("'system.slice:gantry:job-42': systemd cgroup paths"),
            std::string::npos)
      << r.error().message();
}

TEST(CgroupFactoryTest, BadPathsAreInvalid) {
  auto dots = resolve_cgroup_path("/ci/../etc", "x");
  ASSERT_FALSE(dots.ok());
  EXPECT_EQ(dots.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(dots.error().message(),
            "linux.cgroupsPath: cgroup path '/ci/../etc': must not contain '.' or '..'");
  EXPECT_FALSE(resolve_cgroup_path("/", "x").ok());
  EXPECT_FALSE(resolve_cgroup_path("/a//b", "x").ok());
  EXPECT_FALSE(resolve_cgroup_path("", "").ok());
  EXPECT_FALSE(resolve_cgroup_path("", "a/b").ok());
}

TEST(CgroupFactoryTest, PicksV2OnAUnifiedHost) {
  CgroupLayout layout;
  layout.mode = CgroupLayout::Mode::kV2;
  layout.unified_mount = "/sys/fs/cgroup";
  auto m = make_cgroup_manager("/gantry/a", layout);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ((*m)->version(), CgroupVersion::kV2);
  EXPECT_EQ((*m)->path(), "/gantry/a");
  EXPECT_EQ((*m)->host_paths(), std::vector<std::string>{"/sys/fs/cgroup/gantry/a"});
}

TEST(CgroupFactoryTest, PicksV1AndTracksUnifiedOnAHybridHost) {
  CgroupLayout layout;
  layout.mode = CgroupLayout::Mode::kHybrid;
  layout.v1 = {{"/sys/fs/cgroup/memory", {"memory"}, ""},
               {"/sys/fs/cgroup/systemd", {}, "systemd"}};
  layout.unified_mount = "/sys/fs/cgroup/unified";
  auto m = make_cgroup_manager("/gantry/a", layout);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ((*m)->version(), CgroupVersion::kV1);
  EXPECT_EQ((*m)->host_paths(), (std::vector<std::string>{"/sys/fs/cgroup/memory/gantry/a",
                                                          "/sys/fs/cgroup/systemd/gantry/a",
                                                          "/sys/fs/cgroup/unified/gantry/a"}));
}

TEST(CgroupFactoryTest, RefusesAnUncheckedPath) {
  CgroupLayout layout;
  layout.unified_mount = "/sys/fs/cgroup";
  auto m = make_cgroup_manager("relative", layout);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message(), "cgroup path 'relative': must be absolute");
}

}  // namespace
}  // namespace gantry::runtime
