// The cgroup v2 device filter, run in a small BPF interpreter: what it allows and denies.
#include <gtest/gtest.h>

#include "runtime/cgroups/device_filter.h"
#include "runtime/cgroups/resources.h"
#include "tests/fakes/bpf_device_interpreter.h"

namespace gantry::runtime {
namespace {

using gantry::testing::run_device_filter;

DeviceRule rule(bool allow, std::string type, std::optional<int64_t> major = std::nullopt,
                std::optional<int64_t> minor = std::nullopt, std::string access = "rwm") {
  DeviceRule r;
  r.allow = allow;
  r.type = std::move(type);
  r.major = major;
  r.minor = minor;
  r.access = std::move(access);
  return r;
}

std::vector<bpf_insn> compiled(const std::vector<DeviceRule>& rules) {
  auto prog = compile_device_filter(rules);
  GANTRY_CHECK(prog.ok());
  return *prog;
}

TEST(CgroupDeviceFilterTest, DefaultOciRulesAllowOnlyTheStandardDevices) {
  auto prog = compiled(effective_device_rules({rule(false, "a")}));
  EXPECT_EQ(run_device_filter(prog, 'c', 1, 3, "rw"), 1);     // /dev/null
  EXPECT_EQ(run_device_filter(prog, 'c', 1, 9, "r"), 1);      // /dev/urandom
  EXPECT_EQ(run_device_filter(prog, 'c', 136, 7, "rw"), 1);   // /dev/pts/7
  EXPECT_EQ(run_device_filter(prog, 'c', 10, 200, "rw"), 1);  // /dev/net/tun
  EXPECT_EQ(run_device_filter(prog, 'c', 1, 11, "r"), 0);     // /dev/kmsg
  EXPECT_EQ(run_device_filter(prog, 'b', 8, 0, "r"), 0);      // /dev/sda
  EXPECT_EQ(run_device_filter(prog, 'c', 10, 229, "rw"), 0);  // /dev/fuse
  // mknod of anything is allowed, opening it is not (as runc does).
  EXPECT_EQ(run_device_filter(prog, 'b', 8, 0, "m"), 1);
  EXPECT_EQ(run_device_filter(prog, 'c', 99, 1, "m"), 1);
}

TEST(CgroupDeviceFilterTest, NothingFollowsARuleThatMatchesEverything) {
  // The kernel's verifier refuses unreachable instructions.
  auto deny_all = compiled({rule(true, "c", 1, 3), rule(false, "a")});
  EXPECT_EQ(deny_all.back().code, BPF_JMP | BPF_EXIT);
  EXPECT_EQ(deny_all[deny_all.size() - 2].imm, 0);  // r0 = 0 (deny), then exit
  EXPECT_EQ(deny_all.size(), 8u);                   // 6 loads + the deny-all block
  EXPECT_EQ(run_device_filter(deny_all, 'c', 1, 3, "r"), 0);
}

TEST(CgroupDeviceFilterTest, NoRulesAllowEverythingLikeAFreshV1Cgroup) {
  auto prog = compiled({});
  EXPECT_EQ(run_device_filter(prog, 'b', 8, 0, "rwm"), 1);
  EXPECT_EQ(run_device_filter(prog, 'c', 1, 11, "r"), 1);
}

TEST(CgroupDeviceFilterTest, AnExtraAllowOpensThatDeviceOnly) {
  auto prog = compiled(effective_device_rules({rule(false, "a"), rule(true, "c", 10, 229, "rw")}));
  EXPECT_EQ(run_device_filter(prog, 'c', 10, 229, "rw"), 1);
  EXPECT_EQ(run_device_filter(prog, 'c', 10, 228, "rw"), 0);
  EXPECT_EQ(run_device_filter(prog, 'b', 10, 229, "rw"), 0);  // type matters
}

TEST(CgroupDeviceFilterTest, AllowMustGrantEveryRequestedAccess) {
  auto prog = compiled({rule(false, "a"), rule(true, "c", 10, 229, "r")});
  EXPECT_EQ(run_device_filter(prog, 'c', 10, 229, "r"), 1);
  EXPECT_EQ(run_device_filter(prog, 'c', 10, 229, "w"), 0);
  EXPECT_EQ(run_device_filter(prog, 'c', 10, 229, "rw"), 0);
}

TEST(CgroupDeviceFilterTest, DenyOfOneAccessRefusesRequestsWithIt) {
  auto prog = compiled({rule(true, "a"), rule(false, "c", 1, 3, "w")});
  EXPECT_EQ(run_device_filter(prog, 'c', 1, 3, "r"), 1);
  EXPECT_EQ(run_device_filter(prog, 'c', 1, 3, "w"), 0);
  EXPECT_EQ(run_device_filter(prog, 'c', 1, 3, "rw"), 0);
  EXPECT_EQ(run_device_filter(prog, 'c', 1, 5, "rw"), 1);
}

TEST(CgroupDeviceFilterTest, LastMatchingRuleWins) {
  auto prog = compiled({rule(false, "a"), rule(true, "c", 1, 3), rule(false, "c", 1, 3)});
  EXPECT_EQ(run_device_filter(prog, 'c', 1, 3, "r"), 0);
  prog = compiled({rule(false, "c", 1, 3), rule(true, "c", 1)});
  EXPECT_EQ(run_device_filter(prog, 'c', 1, 3, "r"), 1);
}

TEST(CgroupDeviceFilterTest, WildcardsMatchAnyMajorOrMinor) {
  auto prog = compiled(
      {rule(false, "a"), rule(true, "c", std::nullopt, 5, "r"), rule(true, "b", 8, -1, "r")});
  EXPECT_EQ(run_device_filter(prog, 'c', 42, 5, "r"), 1);
  EXPECT_EQ(run_device_filter(prog, 'c', 42, 6, "r"), 0);
  EXPECT_EQ(run_device_filter(prog, 'b', 8, 17, "r"), 1);
  EXPECT_EQ(run_device_filter(prog, 'b', 9, 0, "r"), 0);
}

TEST(CgroupDeviceFilterTest, BadRulesAreErrorsNamingTheField) {
  auto bad_type = compile_device_filter({rule(true, "z", 1, 3)});
  ASSERT_FALSE(bad_type.ok());
  EXPECT_EQ(bad_type.error().message(),
            "linux.resources.devices: type must be 'a', 'c' or 'b', got 'z'");
  auto too_big = compile_device_filter({rule(true, "c", 5000, 1)});
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().message(),
            "linux.resources.devices: device 5000:1 is out of range (major <= 4095, minor <= "
            "1048575)");
}

}  // namespace
}  // namespace gantry::runtime
