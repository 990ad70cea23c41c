// A pure cgroup v2 host (no v1 hierarchy at all) end to end, on a fixture tree: the layout read
// from mountinfo, the manager the factory picks, the container's /sys/fs/cgroup in the launch
// plan, then create, add, usage, kill and destroy. The development hosts are hybrid, so this is
// where the v2-only path is shown to hold together.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

#include "common/file.h"
#include "runtime/cgroups/factory.h"
#include "runtime/default_spec.h"
#include "runtime/launch_cgroup.h"
#include "tests/fakes/fake_cgroup_fs.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime {
namespace {

using gantry::testing::FakeCgroupFs;

class CgroupV2HostTest : public ::testing::Test {
 protected:
  CgroupV2HostTest() : fs_(FakeCgroupFs::Flavour::kV2) {
    root_ = tmp_.path() + "/sys/fs/cgroup";
    fs_.make_cgroup(root_);
    fs_.put(root_ + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    // What /proc/self/mountinfo says on such a host, with the cgroup2 mount at the fixture.
    mountinfo_ =
        "22 27 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw\n"
        "26 23 0:23 / " + root_ +
        " rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
        "rw,nsdelegate,memory_recursiveprot\n"
        "27 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";
  }

  gantry::testing::TempDir tmp_;
  FakeCgroupFs fs_;
  std::string root_;
  std::string mountinfo_;
};

TEST_F(CgroupV2HostTest, LayoutFactoryPlanAndLifecycleUseOnlyTheUnifiedTree) {
  auto layout = parse_cgroup_layout(mountinfo_);
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->mode, CgroupLayout::Mode::kV2);
  EXPECT_TRUE(layout->v1.empty());
  EXPECT_EQ(layout->unified_mount, root_);

  auto path = resolve_cgroup_path("", "job-1");
  ASSERT_TRUE(path.ok());
  auto made = make_cgroup_manager(*path, *layout, &fs_);
  ASSERT_TRUE(made.ok()) << made.error().message();
  CgroupManager& m = **made;
  const std::string leaf = root_ + "/gantry/job-1";
  EXPECT_EQ(m.version(), CgroupVersion::kV2);
  EXPECT_EQ(m.host_paths(), std::vector<std::string>{leaf});

  // Inside, /sys/fs/cgroup is a fresh cgroup2 mount in the container's cgroup namespace.
  PlanHost host = plan_host_for(*layout, *path);
  EXPECT_TRUE(host.cgroup_v2);
  ContainerSpec spec = default_container_spec();
  spec.bundle = tmp_.path();
  spec.root.path = tmp_.path() + "/rootfs";
  auto plan = make_launch_plan(spec, host);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_TRUE(plan->unshare_cgroup_ns);
  auto cg_mount = std::find_if(plan->mounts.begin(), plan->mounts.end(),
                               [](const MountOp& op) { return op.fstype == "cgroup2"; });
  ASSERT_NE(cg_mount, plan->mounts.end());
  EXPECT_EQ(cg_mount->destination, "/sys/fs/cgroup");

  // create: controllers enabled down the tree, limits written, the default spec's device rules
  // as a BPF filter (v2 has no devices.allow).
  Resources r = spec.resources;
  r.memory_limit = 64 << 20;
  r.pids_limit = 100;
  ASSERT_TRUE(m.create(r).ok());
  EXPECT_EQ(fs_.made_dirs(), (std::vector<std::string>{root_ + "/gantry", leaf}));
  EXPECT_EQ(fs_.get(leaf + "/memory.max"), "67108864\n");
  EXPECT_EQ(fs_.get(leaf + "/pids.max"), "100\n");
  EXPECT_EQ(fs_.device_filters.count(leaf), 1u);
  for (const auto& w : fs_.writes()) {
    EXPECT_TRUE(w.dir.starts_with(root_)) << w.dir << "/" << w.file;
    EXPECT_NE(w.file, "devices.allow");
  }

  ASSERT_TRUE(m.add_process(4242).ok());
  EXPECT_EQ(fs_.get(leaf + "/cgroup.procs"), "4242\n");
  auto pids = m.pids();
  ASSERT_TRUE(pids.ok());
  EXPECT_EQ(*pids, std::vector<pid_t>{4242});

  fs_.put(leaf + "/cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n");
  fs_.put(leaf + "/memory.peak", "8192\n");
  fs_.put(leaf + "/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
  fs_.put(leaf + "/pids.current", "1\n");
  auto u = m.usage();
  ASSERT_TRUE(u.ok()) << u.error().message();
  EXPECT_EQ(u->cpu_usage_ns, 2500000u);
  EXPECT_EQ(u->memory_peak_bytes, 8192u);
  EXPECT_FALSE(u->oom_killed());

  // kill --all and delete: cgroup.kill, then the kernel empties the cgroup and it goes.
  ASSERT_TRUE(m.kill_all(SIGKILL).ok());
  EXPECT_EQ(fs_.values_written(leaf, "cgroup.kill"), std::vector<std::string>{"1"});
  fs_.on_pause = [&](int) { fs_.put(leaf + "/cgroup.procs", ""); };
  ASSERT_TRUE(m.destroy().ok());
  EXPECT_FALSE(path_exists(leaf));
  EXPECT_FALSE(path_exists(root_ + "/gantry"));
  EXPECT_TRUE(path_exists(root_));
}

}  // namespace
}  // namespace gantry::runtime
