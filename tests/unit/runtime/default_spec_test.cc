#include "runtime/default_spec.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/oci_config.h"

namespace gantry::runtime {
namespace {

TEST(DefaultSpecTest, IsSecureAndParsesBack) {
  ContainerSpec spec = default_container_spec();
  Json j = to_oci_config(spec);
  auto back = parse_oci_config(j, "/b");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->root.path, "/b/rootfs");
  EXPECT_TRUE(back->root.readonly);
  EXPECT_TRUE(back->process.no_new_privileges);
  EXPECT_FALSE(back->process.terminal);
  EXPECT_EQ(back->process.capabilities.bounding, default_capabilities());
  EXPECT_TRUE(back->process.capabilities.ambient.empty());
  EXPECT_EQ(std::count(back->process.capabilities.bounding.begin(),
                       back->process.capabilities.bounding.end(), "CAP_SYS_ADMIN"),
            0);
  for (auto t : {NamespaceType::kPid, NamespaceType::kNetwork, NamespaceType::kIpc,
                 NamespaceType::kUts, NamespaceType::kMount, NamespaceType::kCgroup}) {
    EXPECT_TRUE(back->has_namespace(t)) << namespace_type_name(t);
  }
  EXPECT_FALSE(back->has_namespace(NamespaceType::kUser));
  ASSERT_TRUE(back->seccomp.has_value());
  EXPECT_EQ(back->seccomp->default_action, "SCMP_ACT_ERRNO");
  EXPECT_FALSE(back->seccomp->syscalls.empty());
  EXPECT_NE(std::find(back->masked_paths.begin(), back->masked_paths.end(), "/proc/kcore"),
            back->masked_paths.end());
  EXPECT_NE(std::find(back->readonly_paths.begin(), back->readonly_paths.end(), "/proc/sys"),
            back->readonly_paths.end());
  ASSERT_EQ(back->resources.devices.size(), 1u);
  EXPECT_FALSE(back->resources.devices[0].allow);
  EXPECT_EQ(back->mounts.size(), 7u);
}

TEST(DefaultSpecTest, RootlessMapsTheCallerAndDropsPrivilegedMounts) {
  DefaultSpecOptions o;
  o.rootless = true;
  o.host_uid = 1000;
  o.host_gid = 100;
  ContainerSpec spec = default_container_spec(o);
  auto back = parse_oci_config(to_oci_config(spec), "/b");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_TRUE(back->has_namespace(NamespaceType::kUser));
  ASSERT_EQ(back->uid_mappings.size(), 1u);
  EXPECT_EQ(back->uid_mappings[0].host_id, 1000u);
  EXPECT_EQ(back->gid_mappings[0].host_id, 100u);
  for (const auto& m : back->mounts) {
    EXPECT_NE(m.type, "sysfs");
    EXPECT_NE(m.type, "cgroup");
    EXPECT_EQ(std::count(m.options.begin(), m.options.end(), "gid=5"), 0);
  }
  EXPECT_TRUE(back->resources.devices.empty());
}

}  // namespace
}  // namespace gantry::runtime
