#include "runtime/capabilities.h"

#include <linux/capability.h>

#include <gtest/gtest.h>

#include <set>

namespace gantry::runtime {
namespace {

TEST(CapabilitiesTest, EveryKnownNameRoundTrips) {
  std::set<std::string_view> seen;
  for (int cap = 0; cap <= kLastKnownCapability; ++cap) {
    std::string_view name = capability_name(cap);
    ASSERT_FALSE(name.empty()) << cap;
    EXPECT_TRUE(name.starts_with("CAP_")) << name;
    EXPECT_TRUE(seen.insert(name).second) << "duplicate " << name;
    EXPECT_EQ(capability_from_name(name), cap) << name;
  }
}

TEST(CapabilitiesTest, NumbersMatchTheKernelHeaders) {
  EXPECT_EQ(capability_from_name("CAP_CHOWN"), CAP_CHOWN);
  EXPECT_EQ(capability_from_name("CAP_NET_ADMIN"), CAP_NET_ADMIN);
  EXPECT_EQ(capability_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
  EXPECT_EQ(capability_from_name("CAP_MKNOD"), CAP_MKNOD);
  EXPECT_EQ(capability_from_name("CAP_AUDIT_READ"), CAP_AUDIT_READ);
  EXPECT_EQ(capability_from_name("CAP_PERFMON"), 38);
  EXPECT_EQ(capability_from_name("CAP_BPF"), 39);
  EXPECT_EQ(capability_from_name("CAP_CHECKPOINT_RESTORE"), 40);
}

TEST(CapabilitiesTest, UnknownNamesAndNumbersAreNotFound) {
  EXPECT_FALSE(capability_from_name("CAP_FOO"));
  EXPECT_FALSE(capability_from_name("chown"));
  EXPECT_FALSE(capability_from_name("cap_chown"));  // config.json names are exact
  EXPECT_FALSE(capability_from_name(""));
  EXPECT_TRUE(capability_name(-1).empty());
  EXPECT_TRUE(capability_name(kLastKnownCapability + 1).empty());
}

TEST(CapabilitiesTest, KernelLastCapabilityIsSane) {
  int last = kernel_last_capability();
  EXPECT_GE(last, CAP_AUDIT_READ);  // every kernel Gantry runs on has 37
  EXPECT_LE(last, 63);
}

TEST(CapabilitiesTest, CompilesEachSetIntoItsOwnMask) {
  Capabilities caps;
  caps.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN"};
  caps.effective = {"CAP_KILL"};
  caps.permitted = {"CAP_KILL", "CAP_CHOWN", "CAP_CHECKPOINT_RESTORE"};
  caps.inheritable = {"CAP_NET_RAW", "CAP_CHECKPOINT_RESTORE"};
  caps.ambient = {"CAP_CHECKPOINT_RESTORE"};
  auto set = compile_capabilities(caps, 40);
  ASSERT_TRUE(set.ok()) << set.error().message();
  EXPECT_EQ(set->bounding, (1ULL << CAP_CHOWN) | (1ULL << CAP_KILL) | (1ULL << CAP_SYS_ADMIN));
  EXPECT_EQ(set->effective, 1ULL << CAP_KILL);
  EXPECT_EQ(set->permitted, (1ULL << CAP_KILL) | (1ULL << CAP_CHOWN) | (1ULL << 40));
  EXPECT_EQ(set->inheritable, (1ULL << CAP_NET_RAW) | (1ULL << 40));
  EXPECT_EQ(set->ambient, 1ULL << 40);
  EXPECT_EQ(set->last_cap, 40);
  EXPECT_TRUE(set->warnings.empty());
  EXPECT_TRUE(set->ignored.empty());
}

TEST(CapabilitiesTest, UnknownNameErrorNamesSetIndexAndName) {
  Capabilities caps;
  caps.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_FOO"};
  auto set = compile_capabilities(caps, 40);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(set.error().message(),
            "process.capabilities.bounding[3]: unknown capability 'CAP_FOO'");

  Capabilities amb;
  amb.ambient = {"NET_RAW"};
  EXPECT_EQ(compile_capabilities(amb, 40).error().message(),
            "process.capabilities.ambient[0]: unknown capability 'NET_RAW'");
  Capabilities inh;
  inh.inheritable = {"CAP_KILL", ""};
  EXPECT_EQ(compile_capabilities(inh, 40).error().message(),
            "process.capabilities.inheritable[1]: unknown capability ''");
}

TEST(CapabilitiesTest, CapabilitiesBeyondTheKernelAreSkippedWithAWarning) {
  Capabilities caps;
  caps.bounding = {"CAP_CHOWN", "CAP_PERFMON", "CAP_BPF"};
  caps.effective = {"CAP_BPF", "CAP_CHOWN"};
  auto set = compile_capabilities(caps, CAP_AUDIT_READ);  // a 5.4 kernel: 37 is the last
  ASSERT_TRUE(set.ok()) << set.error().message();
  EXPECT_EQ(set->bounding, 1ULL << CAP_CHOWN);
  EXPECT_EQ(set->effective, 1ULL << CAP_CHOWN);
  EXPECT_EQ(set->warnings,
            (std::vector<std::string>{
                "process.capabilities.bounding: 'CAP_PERFMON', 'CAP_BPF' unknown to the running "
                "kernel (last capability 37); skipped",
                "process.capabilities.effective: 'CAP_BPF' unknown to the running kernel (last "
                "capability 37); skipped"}));
}

TEST(CapabilitiesTest, AmbientCapabilitiesTheKernelCannotRaiseAreIgnored) {
  Capabilities caps;
  caps.permitted = {"CAP_KILL", "CAP_NET_RAW"};
  caps.inheritable = {"CAP_KILL", "CAP_CHOWN"};
  caps.ambient = {"CAP_KILL", "CAP_NET_RAW", "CAP_CHOWN"};
  auto set = compile_capabilities(caps, 40);
  ASSERT_TRUE(set.ok()) << set.error().message();
  EXPECT_EQ(set->ambient, 1ULL << CAP_KILL);
  EXPECT_TRUE(set->warnings.empty());
  EXPECT_EQ(set->ignored,
            (std::vector<std::string>{
                "process.capabilities.ambient: 'CAP_CHOWN', 'CAP_NET_RAW' not in both the "
                "permitted and inheritable sets, so not ambient; skipped"}));
}

TEST(CapabilitiesTest, DockerDefaultSetHasFourteenKnownCapabilities) {
  auto names = docker_default_capabilities();
  EXPECT_EQ(names.size(), 14u);
  std::set<std::string> unique(names.begin(), names.end());
  EXPECT_EQ(unique.size(), 14u);
  for (const auto& n : names) EXPECT_TRUE(capability_from_name(n)) << n;
  EXPECT_TRUE(unique.count("CAP_NET_BIND_SERVICE"));
  EXPECT_TRUE(unique.count("CAP_AUDIT_WRITE"));
  EXPECT_FALSE(unique.count("CAP_SYS_ADMIN"));
  EXPECT_FALSE(unique.count("CAP_NET_ADMIN"));
}

TEST(CapabilitiesTest, DefaultContainerCapabilitiesLeaveInheritableAndAmbientEmpty) {
  Capabilities caps = default_container_capabilities();
  EXPECT_EQ(caps.bounding, docker_default_capabilities());
  EXPECT_EQ(caps.effective, caps.bounding);
  EXPECT_EQ(caps.permitted, caps.bounding);
  EXPECT_TRUE(caps.inheritable.empty());
  EXPECT_TRUE(caps.ambient.empty());
  auto set = compile_capabilities(caps);
  ASSERT_TRUE(set.ok()) << set.error().message();
  EXPECT_EQ(__builtin_popcountll(set->bounding), 14);
}

}  // namespace
}  // namespace gantry::runtime
