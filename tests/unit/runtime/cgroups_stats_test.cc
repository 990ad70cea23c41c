#include <gtest/gtest.h>

#include "runtime/cgroups/stats.h"

namespace gantry::runtime {
namespace {

TEST(CgroupStatsTest, ParsesSingleNumbers) {
  EXPECT_EQ(*parse_cgroup_uint("123456789\n", "cpuacct.usage"), 123456789u);
  EXPECT_EQ(*parse_cgroup_uint("18446744073709551615\n", "memory.max_usage_in_bytes"),
            18446744073709551615ull);
  EXPECT_EQ(*parse_cgroup_uint("0", "memory.failcnt"), 0u);
}

TEST(CgroupStatsTest, BadNumberNamesFileAndContent) {
  auto r = parse_cgroup_uint("max\n", "/sys/fs/cgroup/x/pids.current");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "parse '/sys/fs/cgroup/x/pids.current': want an unsigned number, got 'max'");
  EXPECT_FALSE(parse_cgroup_uint("", "f").ok());
  EXPECT_FALSE(parse_cgroup_uint("-1", "f").ok());
  EXPECT_FALSE(parse_cgroup_uint("12abc", "f").ok());
}

TEST(CgroupStatsTest, ReadsOomKillFromV1OomControl) {
  constexpr char kText[] = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
  EXPECT_EQ(*parse_cgroup_keyed(kText, "oom_kill", "memory.oom_control"), 3u);
  EXPECT_EQ(*parse_cgroup_keyed(kText, "under_oom", "memory.oom_control"), 0u);
}

TEST(CgroupStatsTest, ReadsV2CpuStatAndMemoryEvents) {
  constexpr char kCpu[] =
      "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 0\nnr_throttled 0\n"
      "throttled_usec 0\n";
  EXPECT_EQ(*parse_cgroup_keyed(kCpu, "usage_usec", "cpu.stat"), 2500u);
  constexpr char kEvents[] = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n";
  // "oom_kill" must not match "oom_kill_disable" or "oom_group_kill".
  EXPECT_EQ(*parse_cgroup_keyed(kEvents, "oom_kill", "memory.events"), 1u);
  EXPECT_EQ(*parse_cgroup_keyed(kEvents, "oom", "memory.events"), 2u);
}

TEST(CgroupStatsTest, MissingKeyIsNotFound) {
  auto r =
      parse_cgroup_keyed("oom_kill_disable 0\nunder_oom 0\n", "oom_kill", "memory.oom_control");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message(), "parse 'memory.oom_control': no 'oom_kill' entry");
}

TEST(CgroupStatsTest, BadKeyedValueIsInvalid) {
  auto r = parse_cgroup_keyed("usage_usec lots\n", "usage_usec", "cpu.stat");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "parse 'cpu.stat': 'usage_usec' is not a number: 'lots'");
}

TEST(CgroupStatsTest, ParsesCgroupProcs) {
  EXPECT_EQ(*parse_cgroup_procs("12\n345\n6789\n", "cgroup.procs"),
            (std::vector<pid_t>{12, 345, 6789}));
  EXPECT_TRUE(parse_cgroup_procs("", "cgroup.procs")->empty());
  auto bad = parse_cgroup_procs("12\nzz\n", "/x/cgroup.procs");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "parse '/x/cgroup.procs': not a pid: 'zz'");
  EXPECT_FALSE(parse_cgroup_procs("0\n", "cgroup.procs").ok());
}

TEST(CgroupStatsTest, ParsesProcPidCgroup) {
  auto r = parse_proc_cgroup(
      "12:name=systemd:/user.slice\n4:cpu,cpuacct:/gantry/a\n3:memory:/gantry/a\n0::/gantry/a\n");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->at("name=systemd"), "/user.slice");
  EXPECT_EQ(r->at("cpu"), "/gantry/a");
  EXPECT_EQ(r->at("cpuacct"), "/gantry/a");
  EXPECT_EQ(r->at("memory"), "/gantry/a");
  EXPECT_EQ(r->at(""), "/gantry/a");
  EXPECT_FALSE(parse_proc_cgroup("garbage\n").ok());
}

}  // namespace
}  // namespace gantry::runtime
