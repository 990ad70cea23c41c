#include "runtime/launch_cgroup.h"

#include <gtest/gtest.h>

namespace gantry::runtime {
namespace {

TEST(LaunchCgroupTest, HybridHostMountsEachHierarchyUnderItsHostName) {
  CgroupLayout layout;
  layout.mode = CgroupLayout::Mode::kHybrid;
  layout.v1 = {{"/sys/fs/cgroup/cpu,cpuacct", {"cpu", "cpuacct"}, ""},
               {"/sys/fs/cgroup/memory", {"memory"}, ""},
               {"/sys/fs/cgroup/systemd", {}, "systemd"}};
  layout.unified_mount = "/sys/fs/cgroup/unified";
  PlanHost host = plan_host_for(layout, "/gantry/c1");
  EXPECT_FALSE(host.cgroup_v2);
  ASSERT_EQ(host.cgroup_v1_sources.size(), 4u);
  EXPECT_EQ(host.cgroup_v1_sources[0].name, "cpu,cpuacct");
  EXPECT_EQ(host.cgroup_v1_sources[0].host_path, "/sys/fs/cgroup/cpu,cpuacct/gantry/c1");
  EXPECT_EQ(host.cgroup_v1_sources[2].name, "systemd");
  EXPECT_EQ(host.cgroup_v1_sources[3].name, "unified");
  EXPECT_EQ(host.cgroup_v1_sources[3].host_path, "/sys/fs/cgroup/unified/gantry/c1");
}

TEST(LaunchCgroupTest, UnifiedHostHasOneSource) {
  CgroupLayout layout;
  layout.mode = CgroupLayout::Mode::kV2;
  layout.unified_mount = "/sys/fs/cgroup";
  PlanHost host = plan_host_for(layout, "/ci/job-7");
  EXPECT_TRUE(host.cgroup_v2);
  ASSERT_EQ(host.cgroup_v1_sources.size(), 1u);
  EXPECT_EQ(host.cgroup_v1_sources[0].host_path, "/sys/fs/cgroup/ci/job-7");
}

}  // namespace
}  // namespace gantry::runtime
