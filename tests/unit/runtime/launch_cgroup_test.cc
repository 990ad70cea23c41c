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

CgroupLayout hybrid_host() {
  CgroupLayout layout;
  layout.mode = CgroupLayout::Mode::kHybrid;
  for (const char* c :
       {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"}) {
    layout.v1.push_back({std::string("/sys/fs/cgroup/") + c, {c}, ""});
  }
  layout.v1.push_back({"/sys/fs/cgroup/systemd", {}, "systemd"});
  layout.unified_mount = "/sys/fs/cgroup/unified";
  return layout;
}

std::vector<std::string> names(const PlanHost& host) {
  std::vector<std::string> out;
  for (const auto& s : host.cgroup_v1_sources) out.push_back(s.name);
  return out;
}

TEST(LaunchCgroupTest, WithoutLimitsJoinsOnlyWhatKillUsageAndDevicesNeed) {
  CgroupLayout joined = layout_to_join(hybrid_host(), Resources{});
  EXPECT_EQ(joined.mode, CgroupLayout::Mode::kHybrid);
  EXPECT_EQ(joined.unified_mount, "");
  EXPECT_EQ(names(plan_host_for(joined, "/gantry/c1")),
            (std::vector<std::string>{"cpuacct", "memory", "devices", "freezer", "pids"}));
}

TEST(LaunchCgroupTest, LimitsAddTheirHierarchies) {
  Resources r;
  r.cpu_quota = 50000;
  r.cpu_period = 100000;
  r.cpuset_cpus = "0";
  CgroupLayout joined = layout_to_join(hybrid_host(), r);
  EXPECT_EQ(names(plan_host_for(joined, "/gantry/c1")),
            (std::vector<std::string>{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer",
                                      "pids"}));
}

TEST(LaunchCgroupTest, CoMountedHierarchyIsJoinedOnceForAnyOfItsControllers) {
  CgroupLayout layout;
  layout.mode = CgroupLayout::Mode::kV1;
  layout.v1 = {{"/sys/fs/cgroup/cpu,cpuacct", {"cpu", "cpuacct"}, ""},
               {"/sys/fs/cgroup/net_cls,net_prio", {"net_cls", "net_prio"}, ""},
               {"/sys/fs/cgroup/freezer", {"freezer"}, ""}};
  EXPECT_EQ(names(plan_host_for(layout_to_join(layout, Resources{}), "/gantry/c1")),
            (std::vector<std::string>{"cpu,cpuacct", "freezer"}));
}

TEST(LaunchCgroupTest, UnifiedLayoutIsUnchanged) {
  CgroupLayout layout;
  layout.mode = CgroupLayout::Mode::kV2;
  layout.unified_mount = "/sys/fs/cgroup";
  CgroupLayout joined = layout_to_join(layout, Resources{});
  EXPECT_EQ(joined.unified_mount, "/sys/fs/cgroup");
  EXPECT_TRUE(plan_host_for(joined, "/gantry/c1").cgroup_v2);
}

}  // namespace
}  // namespace gantry::runtime
