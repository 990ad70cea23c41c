#include <gtest/gtest.h>

#include "runtime/cgroups/detect.h"

namespace gantry::runtime {
namespace {

using Mode = CgroupLayout::Mode;

// An older systemd host: cgroup v1 only, co-mounted controllers, a named hierarchy.
constexpr char kV1Host[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup "
    "cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup "
    "cgroup rw,cpu,cpuacct\n"
    "30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup "
    "cgroup rw,memory\n"
    "31 25 0:28 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:15 - "
    "cgroup cgroup rw,net_cls,net_prio\n"
    "32 25 0:29 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:16 - cgroup "
    "cgroup rw,cpuset,clone_children\n"
    "33 25 0:30 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:17 - cgroup "
    "cgroup rw,freezer\n";

// A current distribution: the unified hierarchy only.
constexpr char kV2Host[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

// systemd's hybrid mode: v1 controllers and an empty cgroup2 at /sys/fs/cgroup/unified.
constexpr char kHybridHost[] =
    "25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 "
    "cgroup2 rw,nsdelegate\n"
    "27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup "
    "cgroup rw,xattr,name=systemd\n"
    "29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup "
    "cgroup rw,cpu,cpuacct\n"
    "30 25 0:27 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:14 - cgroup "
    "cgroup rw,pids\n";

TEST(CgroupDetectTest, FindsV1HierarchiesWithCoMountedAndNamedOnes) {
  auto layout = parse_cgroup_layout(kV1Host);
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->mode, Mode::kV1);
  EXPECT_EQ(layout->unified_mount, "");
  ASSERT_EQ(layout->v1.size(), 6u);
  EXPECT_EQ(layout->v1[0].mount_point, "/sys/fs/cgroup/systemd");
  EXPECT_EQ(layout->v1[0].name, "systemd");
  EXPECT_TRUE(layout->v1[0].controllers.empty());
  const CgroupV1Hierarchy* cpu = layout->v1_hierarchy("cpu");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu, layout->v1_hierarchy("cpuacct"));
  EXPECT_EQ(cpu->mount_point, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(cpu->controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ(layout->v1_hierarchy("net_prio")->mount_point, "/sys/fs/cgroup/net_cls,net_prio");
  // clone_children is a mount option, not a controller.
  EXPECT_EQ(layout->v1_hierarchy("cpuset")->controllers, (std::vector<std::string>{"cpuset"}));
  EXPECT_EQ(layout->v1_hierarchy("clone_children"), nullptr);
  EXPECT_EQ(layout->v1_hierarchy("pids"), nullptr);
}

TEST(CgroupDetectTest, FindsUnifiedOnlyHost) {
  auto layout = parse_cgroup_layout(kV2Host);
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->mode, Mode::kV2);
  EXPECT_EQ(layout->unified_mount, "/sys/fs/cgroup");
  EXPECT_TRUE(layout->v1.empty());
}

TEST(CgroupDetectTest, FindsHybridHost) {
  auto layout = parse_cgroup_layout(kHybridHost);
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->mode, Mode::kHybrid);
  EXPECT_EQ(layout->unified_mount, "/sys/fs/cgroup/unified");
  ASSERT_EQ(layout->v1.size(), 3u);
  EXPECT_EQ(layout->v1_hierarchy("pids")->mount_point, "/sys/fs/cgroup/pids");
}

TEST(CgroupDetectTest, V2WithOnlyANamedV1HierarchyIsStillV2) {
  std::string text = std::string(kV2Host) +
                     "40 35 0:40 / /run/cgmanager/systemd rw,relatime - cgroup cgroup "
                     "rw,name=systemd\n";
  auto layout = parse_cgroup_layout(text);
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->mode, Mode::kV2);
  ASSERT_EQ(layout->v1.size(), 1u);
  EXPECT_EQ(layout->v1[0].name, "systemd");
}

TEST(CgroupDetectTest, FirstMountOfAHierarchyWinsAndSysFsCgroupWinsForV2) {
  std::string text =
      "50 1 0:60 / /tmp/other rw - cgroup2 cgroup2 rw\n"
      "51 1 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
      "52 1 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "53 1 0:31 / /mnt/memory-again rw - cgroup cgroup rw,memory\n";
  auto layout = parse_cgroup_layout(text);
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->unified_mount, "/sys/fs/cgroup");
  ASSERT_EQ(layout->v1.size(), 1u);
  EXPECT_EQ(layout->v1[0].mount_point, "/sys/fs/cgroup/memory");
}

TEST(CgroupDetectTest, UnescapesMountPoints) {
  auto layout = parse_cgroup_layout("60 1 0:30 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n");
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->unified_mount, "/mnt/my cgroups");
}

TEST(CgroupDetectTest, OptionalFieldsBeforeTheSeparatorAreSkipped) {
  auto layout = parse_cgroup_layout(
      "61 1 0:30 / /sys/fs/cgroup/pids rw shared:3 master:2 propagate_from:1 - cgroup cgroup "
      "rw,pids\n");
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->v1_hierarchy("pids")->mount_point, "/sys/fs/cgroup/pids");
}

TEST(CgroupDetectTest, NoCgroupMountIsNotFound) {
  auto layout = parse_cgroup_layout("22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n");
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(layout.error().message(), "no cgroup file system is mounted");
}

TEST(CgroupDetectTest, MalformedCgroupLineNamesTheLine) {
  auto layout = parse_cgroup_layout("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n61 1 0:30 / - cgroup\n");
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(layout.error().message().find("mountinfo line 2"), std::string::npos)
      << layout.error().message();
}

TEST(CgroupDetectTest, V1MountWithoutControllerOrNameIsAnError) {
  auto layout = parse_cgroup_layout("61 1 0:30 / /sys/fs/cgroup/x rw - cgroup cgroup rw,xattr\n");
  ASSERT_FALSE(layout.ok());
  EXPECT_NE(layout.error().message().find("'/sys/fs/cgroup/x' names no controller"),
            std::string::npos)
      << layout.error().message();
}

TEST(CgroupDetectTest, DetectsThisHost) {
  auto layout = detect_cgroup_layout();
  // Every Linux host running Gantry has some cgroup mount; the shape depends on the host.
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_TRUE(!layout->v1.empty() || !layout->unified_mount.empty());
}

}  // namespace
}  // namespace gantry::runtime
