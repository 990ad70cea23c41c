#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/cgroups/resources.h"

namespace gantry::runtime {

void PrintTo(const CgroupWrite& w, std::ostream* os) {
  *os << "{" << w.controller << ", " << w.file << " = '" << w.value << "'"
      << (w.skip_if_missing ? ", skip if missing" : "") << "}";
}

namespace {

std::vector<CgroupWrite> without_devices(std::vector<CgroupWrite> w) {
  std::erase_if(w, [](const auto& x) { return x.controller == "devices"; });
  return w;
}

std::string error_of(const Result<std::vector<CgroupWrite>>& r) {
  return r.ok() ? "<ok>" : r.error().message();
}

DeviceRule rule(bool allow, std::string type, std::optional<int64_t> major,
                std::optional<int64_t> minor, std::string access) {
  DeviceRule r;
  r.allow = allow;
  r.type = std::move(type);
  r.major = major;
  r.minor = minor;
  r.access = std::move(access);
  return r;
}

TEST(CgroupResourcesTest, SharesToWeightFollowsTheOciFormula) {
  EXPECT_EQ(cpu_shares_to_weight(2), 1u);
  EXPECT_EQ(cpu_shares_to_weight(1024), 39u);  // 1 + (1022 * 9999) / 262142
  EXPECT_EQ(cpu_shares_to_weight(512), 20u);
  EXPECT_EQ(cpu_shares_to_weight(262144), 10000u);
  EXPECT_EQ(cpu_shares_to_weight(1), 1u);            // clamped up to 2
  EXPECT_EQ(cpu_shares_to_weight(1000000), 10000u);  // clamped down to 262144
}

TEST(CgroupResourcesTest, EmptyResourcesWriteOnlyDefaultDevicesOnV1AndNothingOnV2) {
  auto v1 = plan_v1_writes(Resources{});
  ASSERT_TRUE(v1.ok()) << error_of(v1);
  EXPECT_TRUE(without_devices(*v1).empty());
  EXPECT_EQ(v1->size(), standard_device_rules().size());
  auto v2 = plan_v2_writes(Resources{});
  ASSERT_TRUE(v2.ok()) << error_of(v2);
  EXPECT_TRUE(v2->empty());
}

TEST(CgroupResourcesTest, V1WritesEveryLimit) {
  Resources r;
  r.memory_limit = 64 << 20;
  r.memory_swap = 128 << 20;
  r.memory_reservation = 32 << 20;
  r.cpu_shares = 512;
  r.cpu_quota = 50000;
  r.cpu_period = 100000;
  r.cpuset_cpus = "0-1";
  r.cpuset_mems = "0";
  r.pids_limit = 100;
  auto w = plan_v1_writes(r);
  ASSERT_TRUE(w.ok()) << error_of(w);
  std::vector<CgroupWrite> want = {
      {"cpuset", "cpuset.cpus", "0-1"},
      {"cpuset", "cpuset.mems", "0"},
      {"memory", "memory.limit_in_bytes", "67108864"},
      {"memory", "memory.memsw.limit_in_bytes", "134217728"},
      {"memory", "memory.soft_limit_in_bytes", "33554432"},
      {"cpu", "cpu.shares", "512"},
      {"cpu", "cpu.cfs_period_us", "100000"},
      {"cpu", "cpu.cfs_quota_us", "50000"},
      {"pids", "pids.max", "100"},
  };
  EXPECT_EQ(without_devices(*w), want);
}

TEST(CgroupResourcesTest, V1UnlimitedValues) {
  Resources r;
  r.memory_limit = -1;
  r.memory_swap = -1;
  r.cpu_quota = -1;
  r.pids_limit = 0;
  auto w = plan_v1_writes(r);
  ASSERT_TRUE(w.ok()) << error_of(w);
  std::vector<CgroupWrite> want = {
      {"memory", "memory.limit_in_bytes", "-1"},
      {"memory", "memory.memsw.limit_in_bytes", "-1", /*skip_if_missing=*/true},
      {"cpu", "cpu.cfs_quota_us", "-1"},
      {"pids", "pids.max", "max"},
  };
  EXPECT_EQ(without_devices(*w), want);
  r.pids_limit = -5;
  EXPECT_EQ(without_devices(*plan_v1_writes(r)).back().value, "max");
}

TEST(CgroupResourcesTest, V1DeviceRulesComeFirstThenStandardAllows) {
  Resources r;
  r.devices = {rule(false, "a", std::nullopt, std::nullopt, "rwm"), rule(true, "c", 10, 229, "rw")};
  auto w = plan_v1_writes(r);
  ASSERT_TRUE(w.ok()) << error_of(w);
  ASSERT_GE(w->size(), 4u);
  EXPECT_EQ((*w)[0], (CgroupWrite{"devices", "devices.deny", "a *:* rwm"}));
  EXPECT_EQ((*w)[1], (CgroupWrite{"devices", "devices.allow", "c 10:229 rw"}));
  EXPECT_EQ((*w)[2], (CgroupWrite{"devices", "devices.allow", "c *:* m"}));
  EXPECT_TRUE(std::find(w->begin(), w->end(),
                        CgroupWrite{"devices", "devices.allow", "c 1:3 rwm"}) != w->end());
  EXPECT_TRUE(std::find(w->begin(), w->end(),
                        CgroupWrite{"devices", "devices.allow", "c 136:* rwm"}) != w->end());
}

TEST(CgroupResourcesTest, StandardRulesAreNotRepeated) {
  std::vector<DeviceRule> rules = {rule(true, "c", 1, 3, "rwm")};
  auto eff = effective_device_rules(rules);
  EXPECT_EQ(eff.size(), standard_device_rules().size());
}

TEST(CgroupResourcesTest, BadDeviceRuleIsAnError) {
  Resources r;
  r.devices = {rule(true, "x", 1, 3, "rwm")};
  EXPECT_EQ(error_of(plan_v1_writes(r)),
            "linux.resources.devices: type must be 'a', 'c' or 'b', got 'x'");
  r.devices = {rule(true, "c", 1, 3, "rwx")};
  EXPECT_EQ(error_of(plan_v2_writes(r)),
            "linux.resources.devices: access must be made of 'r', 'w' and 'm', got 'rwx'");
}

TEST(CgroupResourcesTest, V1RefusesUnifiedEntries) {
  Resources r;
  r.unified["memory.high"] = "1G";
  auto w = plan_v1_writes(r);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(w.error().message(),
            "linux.resources.unified['memory.high']: raw cgroup v2 files need a cgroup v2 host; "
            "this host uses cgroup v1");
}

TEST(CgroupResourcesTest, V2ConvertsEveryLimit) {
  Resources r;
  r.memory_limit = 64 << 20;
  r.memory_swap = 96 << 20;
  r.memory_reservation = 32 << 20;
  r.cpu_shares = 1024;
  r.cpu_quota = 50000;
  r.cpu_period = 200000;
  r.cpuset_cpus = "1";
  r.cpuset_mems = "0";
  r.pids_limit = 64;
  auto w = plan_v2_writes(r);
  ASSERT_TRUE(w.ok()) << error_of(w);
  std::vector<CgroupWrite> want = {
      {"cpuset", "cpuset.cpus", "1"},
      {"cpuset", "cpuset.mems", "0"},
      {"memory", "memory.max", "67108864"},
      {"memory", "memory.swap.max", "33554432"},  // memory+swap minus memory
      {"memory", "memory.low", "33554432"},
      {"cpu", "cpu.weight", "39"},
      {"cpu", "cpu.max", "50000 200000"},
      {"pids", "pids.max", "64"},
  };
  EXPECT_EQ(*w, want);
}

TEST(CgroupResourcesTest, V2CpuMaxForms) {
  Resources r;
  r.cpu_quota = 25000;  // no period: the kernel default 100ms
  EXPECT_EQ(plan_v2_writes(r)->at(0), (CgroupWrite{"cpu", "cpu.max", "25000 100000"}));
  r.cpu_quota = -1;
  EXPECT_EQ(plan_v2_writes(r)->at(0), (CgroupWrite{"cpu", "cpu.max", "max 100000"}));
  r.cpu_quota.reset();
  r.cpu_period = 50000;
  EXPECT_EQ(plan_v2_writes(r)->at(0), (CgroupWrite{"cpu", "cpu.max", "max 50000"}));
}

TEST(CgroupResourcesTest, V2UnlimitedValues) {
  Resources r;
  r.memory_limit = -1;
  r.memory_swap = -1;
  r.pids_limit = 0;
  auto w = plan_v2_writes(r);
  ASSERT_TRUE(w.ok()) << error_of(w);
  std::vector<CgroupWrite> want = {
      {"memory", "memory.max", "max"},
      {"memory", "memory.swap.max", "max", /*skip_if_missing=*/true},
      {"pids", "pids.max", "max"},
  };
  EXPECT_EQ(*w, want);
}

TEST(CgroupResourcesTest, V2SwapEqualToMemoryMeansNoSwap) {
  Resources r;
  r.memory_limit = 1 << 20;
  r.memory_swap = 1 << 20;
  auto w = plan_v2_writes(r);
  ASSERT_TRUE(w.ok()) << error_of(w);
  EXPECT_EQ(w->at(1), (CgroupWrite{"memory", "memory.swap.max", "0", /*skip_if_missing=*/true}));
}

TEST(CgroupResourcesTest, SwapBelowMemoryIsAnErrorNamingTheField) {
  Resources r;
  r.memory_limit = 2 << 20;
  r.memory_swap = 1 << 20;
  const char* want =
      "linux.resources.memory.swap: memory+swap 1048576 is less than memory.limit 2097152";
  EXPECT_EQ(error_of(plan_v1_writes(r)), want);
  EXPECT_EQ(error_of(plan_v2_writes(r)), want);
}

TEST(CgroupResourcesTest, V2SwapWithoutMemoryLimitIsAnError) {
  Resources r;
  r.memory_swap = 1 << 20;
  EXPECT_EQ(error_of(plan_v2_writes(r)),
            "linux.resources.memory.swap: a memory+swap limit needs a memory.limit on cgroup v2");
  // v1 has memsw on its own.
  EXPECT_TRUE(plan_v1_writes(r).ok());
}

TEST(CgroupResourcesTest, InvalidValuesNameTheField) {
  Resources r;
  r.memory_limit = 0;
  EXPECT_EQ(error_of(plan_v2_writes(r)),
            "linux.resources.memory.limit: must be positive or -1 (unlimited), got 0");
  r = Resources{};
  r.cpu_quota = 500;
  EXPECT_EQ(error_of(plan_v1_writes(r)),
            "linux.resources.cpu.quota: must be -1 (unlimited) or at least 1000 microseconds, "
            "got 500");
  r = Resources{};
  r.cpu_period = 10;
  EXPECT_EQ(error_of(plan_v2_writes(r)),
            "linux.resources.cpu.period: must be between 1000 and 1000000 microseconds, got 10");
  r = Resources{};
  r.memory_reservation = -7;
  EXPECT_EQ(error_of(plan_v1_writes(r)),
            "linux.resources.memory.reservation: must be non-negative or -1, got -7");
}

TEST(CgroupResourcesTest, V2UnifiedEntriesComeLastAndWin) {
  Resources r;
  r.memory_limit = 1 << 20;
  r.unified["memory.max"] = "2097152";
  r.unified["memory.high"] = "1500000";
  r.unified["cgroup.max.descendants"] = "10";
  auto w = plan_v2_writes(r);
  ASSERT_TRUE(w.ok()) << error_of(w);
  std::vector<CgroupWrite> want = {
      {"", "cgroup.max.descendants", "10"},
      {"memory", "memory.high", "1500000"},
      {"memory", "memory.max", "2097152"},
  };
  EXPECT_EQ(*w, want);
}

TEST(CgroupResourcesTest, V2UnifiedBadNamesAreErrors) {
  for (const char* name : {"../memory.max", "memory", ".hidden", "memory.", "a/b.c"}) {
    Resources r;
    r.unified[name] = "1";
    EXPECT_EQ(error_of(plan_v2_writes(r)), std::string("linux.resources.unified['") + name +
                                               "']: not a cgroup file name (want "
                                               "'<controller>.<file>')");
  }
  Resources r;
  r.unified["memory.high"] = "1\n2";
  EXPECT_EQ(error_of(plan_v2_writes(r)),
            "linux.resources.unified['memory.high']: value must be a single line");
}

TEST(CgroupResourcesTest, WhichDeviceRuleSetsNeedAFilter) {
  auto deny_all = rule(false, "a", std::nullopt, std::nullopt, "rwm");
  auto allow_all = rule(true, "a", std::nullopt, std::nullopt, "rwm");
  auto null_dev = rule(true, "c", 1, 3, "rwm");
  auto fuse = rule(true, "c", 10, 229, "rwm");
  auto deny_null = rule(false, "c", 1, 3, "rwm");
  EXPECT_TRUE(device_rules_need_no_filter({}));
  EXPECT_TRUE(device_rules_need_no_filter({deny_all}));
  EXPECT_TRUE(device_rules_need_no_filter({deny_all, null_dev}));
  EXPECT_TRUE(device_rules_need_no_filter(effective_device_rules({deny_all})));
  EXPECT_TRUE(device_rules_need_no_filter({deny_all, allow_all}));
  EXPECT_TRUE(device_rules_need_no_filter({fuse}));  // on top of allow-all: nothing new
  EXPECT_FALSE(device_rules_need_no_filter({deny_all, fuse}));
  EXPECT_FALSE(device_rules_need_no_filter({deny_null}));
  EXPECT_FALSE(device_rules_need_no_filter({allow_all, deny_null}));
  EXPECT_FALSE(device_rules_need_no_filter({deny_all, rule(true, "b", 8, 0, "rw")}));
  // Standard pts is "c 136:* rwm": one pts is within it, all char devices are not.
  EXPECT_TRUE(device_rules_need_no_filter({deny_all, rule(true, "c", 136, 4, "rw")}));
  EXPECT_FALSE(
      device_rules_need_no_filter({deny_all, rule(true, "c", std::nullopt, std::nullopt, "rw")}));
}

}  // namespace
}  // namespace gantry::runtime
