// CgroupV1Manager over a fixture tree of v1 hierarchies: FakeCgroupFs plays the kernel.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

#include "common/file.h"
#include "runtime/cgroups/v1.h"
#include "tests/fakes/fake_cgroup_fs.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime {
namespace {

using gantry::testing::FakeCgroupFs;

class CgroupV1ManagerTest : public ::testing::Test {
 protected:
  CgroupV1ManagerTest() : fs_(FakeCgroupFs::Flavour::kV1) {
    root_ = tmp_.path();
    fs_.new_dir_files["cpuset.cpus"] = "";
    fs_.new_dir_files["cpuset.mems"] = "";
    fs_.new_dir_files["freezer.state"] = "THAWED\n";
    auto add = [&](std::string dir, std::vector<std::string> controllers, std::string name = "") {
      hierarchies_.push_back({root_ + "/" + dir, std::move(controllers), std::move(name)});
      fs_.make_cgroup(root_ + "/" + dir);
    };
    add("cpu,cpuacct", {"cpu", "cpuacct"});
    add("cpuset", {"cpuset"});
    add("devices", {"devices"});
    add("freezer", {"freezer"});
    add("memory", {"memory"});
    add("pids", {"pids"});
    add("systemd", {}, "systemd");
    fs_.make_cgroup(root_ + "/unified");
    fs_.put(root_ + "/cpuset/cpuset.cpus", "0-3\n");
    fs_.put(root_ + "/cpuset/cpuset.mems", "0\n");
  }
  CgroupV1Manager make(const std::string& path = "/gantry/job-1") {
    return CgroupV1Manager(hierarchies_, path, root_ + "/unified", &fs_);
  }
  std::string leaf(const std::string& hierarchy) {
    return root_ + "/" + hierarchy + "/gantry/job-1";
  }
  std::string file(const std::string& rel) { return fs_.get(root_ + "/" + rel); }
  // Makes the fake freezer follow writes at once, like an idle cgroup's.
  void instant_freezer() {
    fs_.on_write = [&](const FakeCgroupFs::Write& w) {
      if (w.file == "freezer.state") fs_.put(w.dir + "/freezer.state", w.value + "\n");
    };
  }

  gantry::testing::TempDir tmp_;
  FakeCgroupFs fs_;
  std::string root_;
  std::vector<CgroupV1Hierarchy> hierarchies_;
};

TEST_F(CgroupV1ManagerTest, CreateMakesTheCgroupInEveryHierarchyAndAppliesLimits) {
  auto m = make();
  Resources r;
  r.memory_limit = 64 << 20;
  r.cpu_quota = 50000;
  r.cpu_period = 100000;
  r.pids_limit = 32;
  ASSERT_TRUE(m.create(r).ok());
  for (const char* h :
       {"cpu,cpuacct", "cpuset", "devices", "freezer", "memory", "pids", "systemd", "unified"}) {
    EXPECT_TRUE(is_directory(leaf(h))) << h;
  }
  EXPECT_EQ(file("memory/gantry/job-1/memory.limit_in_bytes"), "67108864\n");
  EXPECT_EQ(file("cpu,cpuacct/gantry/job-1/cpu.cfs_quota_us"), "50000\n");
  EXPECT_EQ(file("cpu,cpuacct/gantry/job-1/cpu.cfs_period_us"), "100000\n");
  EXPECT_EQ(file("pids/gantry/job-1/pids.max"), "32\n");
  auto denies = fs_.values_written(leaf("devices"), "devices.deny");
  EXPECT_TRUE(denies.empty());  // no rules asked: only the standard allows
  auto allows = fs_.values_written(leaf("devices"), "devices.allow");
  EXPECT_NE(std::find(allows.begin(), allows.end(), "c 1:3 rwm"), allows.end());
  EXPECT_EQ(m.host_paths().size(), 8u);
  EXPECT_EQ(m.version(), CgroupVersion::kV1);
}

TEST_F(CgroupV1ManagerTest, DeviceRulesAreWrittenInOrder) {
  Resources r;
  r.devices.resize(1);  // deny all
  ASSERT_TRUE(make().create(r).ok());
  std::vector<FakeCgroupFs::Write> device_writes;
  for (const auto& w : fs_.writes())
    if (w.dir == leaf("devices")) device_writes.push_back(w);
  ASSERT_FALSE(device_writes.empty());
  EXPECT_EQ(device_writes[0].file, "devices.deny");
  EXPECT_EQ(device_writes[0].value, "a *:* rwm");
  EXPECT_EQ(device_writes[1].file, "devices.allow");
  EXPECT_EQ(device_writes[1].value, "c *:* m");
}

TEST_F(CgroupV1ManagerTest, CpusetGetsCpusAndMemsFromTheParentChain) {
  ASSERT_TRUE(make().create(Resources{}).ok());
  EXPECT_EQ(file("cpuset/gantry/cpuset.cpus"), "0-3\n");
  EXPECT_EQ(file("cpuset/gantry/cpuset.mems"), "0\n");
  EXPECT_EQ(file("cpuset/gantry/job-1/cpuset.cpus"), "0-3\n");
  EXPECT_EQ(file("cpuset/gantry/job-1/cpuset.mems"), "0\n");
  // Only in the cpuset hierarchy.
  EXPECT_EQ(file("memory/gantry/job-1/cpuset.cpus"), "");
}

TEST_F(CgroupV1ManagerTest, CpusetFillsAnExistingEmptyParent) {
  fs_.make_cgroup(root_ + "/cpuset/gantry");  // made by someone else, cpus/mems never set
  ASSERT_EQ(file("cpuset/gantry/cpuset.cpus"), "");
  ASSERT_TRUE(make().create(Resources{}).ok());
  EXPECT_EQ(file("cpuset/gantry/cpuset.cpus"), "0-3\n");
  EXPECT_EQ(file("cpuset/gantry/job-1/cpuset.mems"), "0\n");
}

TEST_F(CgroupV1ManagerTest, UnlimitedSwapIsSkippedWithoutSwapAccounting) {
  // No memory.memsw.* files in the fixture: swap accounting is off.
  Resources r;
  r.memory_limit = 1 << 20;
  r.memory_swap = -1;
  ASSERT_TRUE(make().create(r).ok());
  EXPECT_EQ(file("memory/gantry/job-1/memory.limit_in_bytes"), "1048576\n");
  EXPECT_TRUE(fs_.values_written(leaf("memory"), "memory.memsw.limit_in_bytes").empty());
}

TEST_F(CgroupV1ManagerTest, RealSwapLimitIsWrittenEvenIfTheFileLooksMissing) {
  Resources r;
  r.memory_limit = 1 << 20;
  r.memory_swap = 2 << 20;
  ASSERT_TRUE(make().create(r).ok());
  EXPECT_EQ(fs_.values_written(leaf("memory"), "memory.memsw.limit_in_bytes"),
            std::vector<std::string>{"2097152"});
}

TEST_F(CgroupV1ManagerTest, CpusetLimitOverridesTheInheritedValue) {
  Resources r;
  r.cpuset_cpus = "1";
  ASSERT_TRUE(make().create(r).ok());
  EXPECT_EQ(file("cpuset/gantry/job-1/cpuset.cpus"), "1\n");
  EXPECT_EQ(file("cpuset/gantry/cpuset.cpus"), "0-3\n");
}

TEST_F(CgroupV1ManagerTest, MissingControllerIsAnErrorAndMakesNothing) {
  std::erase_if(hierarchies_, [](const auto& h) { return h.has("pids"); });
  Resources r;
  r.pids_limit = 5;
  Status s = make().create(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(s.error().message(), "set 'pids.max': cgroup v1 controller 'pids' is not mounted");
  EXPECT_TRUE(fs_.made_dirs().empty());
}

TEST_F(CgroupV1ManagerTest, UnifiedEntriesAreRefused) {
  Resources r;
  r.unified["memory.high"] = "1";
  Status s = make().create(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(fs_.made_dirs().empty());
}

TEST_F(CgroupV1ManagerTest, CreateTwiceIsAlreadyExists) {
  ASSERT_TRUE(make().create(Resources{}).ok());
  Status s = make().create(Resources{});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kAlreadyExists);
}

TEST_F(CgroupV1ManagerTest, FailedWriteRollsBackEveryHierarchy) {
  fs_.fail_writes_of("memory.limit_in_bytes", EINVAL);
  Resources r;
  r.memory_limit = 4096;
  Status s = make().create(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(),
            "write 'memory.limit_in_bytes' = '4096' in '" + leaf("memory") + "': invalid argument");
  for (const char* h : {"cpu,cpuacct", "cpuset", "memory", "systemd", "unified"}) {
    EXPECT_FALSE(path_exists(leaf(h))) << h;
    EXPECT_FALSE(path_exists(root_ + "/" + h + "/gantry")) << h;
  }
}

TEST_F(CgroupV1ManagerTest, AddProcessJoinsEveryHierarchy) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  ASSERT_TRUE(m.add_process(321).ok());
  for (const auto& dir : m.host_paths())
    EXPECT_EQ(fs_.values_written(dir, "cgroup.procs"), std::vector<std::string>{"321"}) << dir;
  auto pids = m.pids();
  ASSERT_TRUE(pids.ok()) << pids.error().message();
  EXPECT_EQ(*pids, std::vector<pid_t>{321});
}

TEST_F(CgroupV1ManagerTest, KillAllFreezesKillsThenThaws) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  instant_freezer();
  fs_.put(leaf("freezer") + "/cgroup.procs", "40\n41\n");
  std::vector<std::string> state_at_kill;
  fs_.on_kill = [&](pid_t, int) {
    state_at_kill.push_back(file("freezer/gantry/job-1/freezer.state"));
  };
  ASSERT_TRUE(m.kill_all(SIGKILL).ok());
  EXPECT_EQ(fs_.kills(), (std::vector<std::pair<pid_t, int>>{{40, SIGKILL}, {41, SIGKILL}}));
  EXPECT_EQ(state_at_kill, (std::vector<std::string>{"FROZEN\n", "FROZEN\n"}));
  EXPECT_EQ(fs_.values_written(leaf("freezer"), "freezer.state"),
            (std::vector<std::string>{"FROZEN", "THAWED"}));
}

TEST_F(CgroupV1ManagerTest, FreezeRetriesWhileFreezing) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  fs_.on_write = [&](const FakeCgroupFs::Write& w) {
    if (w.file == "freezer.state") fs_.put(w.dir + "/freezer.state", "FREEZING\n");
  };
  fs_.on_pause = [&](int n) {
    if (n == 2) fs_.on_write = nullptr, fs_.put(leaf("freezer") + "/freezer.state", "FROZEN\n");
  };
  ASSERT_TRUE(m.freeze().ok());
  EXPECT_EQ(fs_.pauses(), 2);
}

TEST_F(CgroupV1ManagerTest, FreezeWithoutFreezerIsAnError) {
  std::erase_if(hierarchies_, [](const auto& h) { return h.has("freezer"); });
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  Status s = m.freeze();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(s.error().message(),
            "freeze cgroup '/gantry/job-1': the cgroup v1 'freezer' controller is not mounted");
}

TEST_F(CgroupV1ManagerTest, KillAllWithoutFreezerKillsInRounds) {
  std::erase_if(hierarchies_, [](const auto& h) { return h.has("freezer"); });
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  // A forker: the first round finds 50, which forked 51 before dying.
  fs_.put(leaf("cpu,cpuacct") + "/cgroup.procs", "50\n");
  fs_.on_kill = [&](pid_t pid, int) {
    fs_.put(leaf("cpu,cpuacct") + "/cgroup.procs", pid == 50 ? "51\n" : "");
  };
  ASSERT_TRUE(m.kill_all(SIGKILL).ok());
  EXPECT_EQ(fs_.kills(), (std::vector<std::pair<pid_t, int>>{{50, SIGKILL}, {51, SIGKILL}}));
}

TEST_F(CgroupV1ManagerTest, UpdateRaisingMemoryWritesMemswFirstAndSkipsDevices) {
  fs_.new_dir_files["memory.memsw.limit_in_bytes"] = "9223372036854771712\n";  // swap accounting on
  auto m = make();
  Resources r;
  r.memory_limit = 64 << 20;
  r.memory_swap = 64 << 20;
  r.devices.resize(1);
  ASSERT_TRUE(m.create(r).ok());
  size_t before = fs_.writes().size();
  r.memory_limit = 128 << 20;
  r.memory_swap = 256 << 20;
  ASSERT_TRUE(m.update(r).ok());
  std::vector<std::string> files;
  for (size_t i = before; i < fs_.writes().size(); ++i) files.push_back(fs_.writes()[i].file);
  EXPECT_EQ(files,
            (std::vector<std::string>{"memory.memsw.limit_in_bytes", "memory.limit_in_bytes"}));
  EXPECT_EQ(file("memory/gantry/job-1/memory.limit_in_bytes"), "134217728\n");
}

TEST_F(CgroupV1ManagerTest, MemoryWriteOrder) {
  std::vector<CgroupWrite> w = {{"memory", "memory.limit_in_bytes", "100"},
                                {"memory", "memory.memsw.limit_in_bytes", "200"}};
  EXPECT_EQ(order_v1_memory_writes(w, 300)[0].file, "memory.limit_in_bytes");  // lowering
  EXPECT_EQ(order_v1_memory_writes(w, 50)[0].file, "memory.memsw.limit_in_bytes");
  w[1].value = "-1";
  EXPECT_EQ(order_v1_memory_writes(w, 300)[0].file, "memory.memsw.limit_in_bytes");
}

TEST_F(CgroupV1ManagerTest, UsageReadsEachController) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  fs_.put(leaf("cpu,cpuacct") + "/cpuacct.usage", "987654321\n");
  fs_.put(leaf("memory") + "/memory.max_usage_in_bytes", "1048576\n");
  fs_.put(leaf("memory") + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
  fs_.put(leaf("pids") + "/pids.current", "4\n");
  auto u = m.usage();
  ASSERT_TRUE(u.ok()) << u.error().message();
  EXPECT_EQ(u->cpu_usage_ns, 987654321u);
  EXPECT_EQ(u->memory_peak_bytes, 1048576u);
  EXPECT_EQ(u->oom_kills, 1u);
  EXPECT_EQ(u->pids_current, 4u);
}

TEST_F(CgroupV1ManagerTest, UsageOnOldKernelWithoutOomKillCounter) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  fs_.put(leaf("memory") + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
  auto u = m.usage();
  ASSERT_TRUE(u.ok()) << u.error().message();
  EXPECT_EQ(u->oom_kills, 0u);
}

TEST_F(CgroupV1ManagerTest, DestroyKillsWaitsAndRemovesFromEveryHierarchy) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  instant_freezer();
  for (const auto& dir : m.host_paths()) fs_.put(dir + "/cgroup.procs", "60\n");
  fs_.on_kill = [&](pid_t, int) {
    for (const auto& dir : m.host_paths()) fs_.put(dir + "/cgroup.procs", "");
  };
  ASSERT_TRUE(m.destroy().ok());
  EXPECT_EQ(fs_.kills(), (std::vector<std::pair<pid_t, int>>{{60, SIGKILL}}));
  for (const char* h :
       {"cpu,cpuacct", "cpuset", "devices", "freezer", "memory", "pids", "systemd", "unified"}) {
    EXPECT_FALSE(path_exists(leaf(h))) << h;
    EXPECT_FALSE(path_exists(root_ + "/" + h + "/gantry")) << h;
    EXPECT_TRUE(path_exists(root_ + "/" + h)) << h;
  }
}

TEST_F(CgroupV1ManagerTest, ManagerOverEveryHierarchyWorksOnThoseTheContainerJoined) {
  // The launcher's manager joins a subset; kill, exec and delete later get a manager over the
  // host's whole layout and must find the container where it is, and only there.
  auto joined_list = v1_hierarchies_to_join(hierarchies_, {});
  ASSERT_EQ(joined_list.size(), 5u);  // cpu,cpuacct devices freezer memory pids
  CgroupV1Manager joined(joined_list, "/gantry/job-1", "", &fs_);
  ASSERT_TRUE(joined.create(Resources{}).ok());
  EXPECT_FALSE(path_exists(leaf("cpuset")));
  EXPECT_FALSE(path_exists(leaf("systemd")));
  EXPECT_FALSE(path_exists(leaf("unified")));

  auto all = make();
  ASSERT_TRUE(all.add_process(70).ok());
  for (const auto& dir : joined.host_paths()) {
    EXPECT_EQ(fs_.get(dir + "/cgroup.procs"), "70\n") << dir;
  }
  EXPECT_FALSE(path_exists(leaf("cpuset")));  // not made by add_process either
  instant_freezer();
  fs_.on_kill = [&](pid_t, int) {
    for (const auto& dir : joined.host_paths()) fs_.put(dir + "/cgroup.procs", "");
  };
  ASSERT_TRUE(all.destroy().ok());
  EXPECT_EQ(fs_.kills(), (std::vector<std::pair<pid_t, int>>{{70, SIGKILL}}));
  for (const char* h : {"cpu,cpuacct", "devices", "freezer", "memory", "pids"}) {
    EXPECT_FALSE(path_exists(leaf(h))) << h;
  }
}

TEST_F(CgroupV1ManagerTest, DestroyOfMissingCgroupSucceeds) {
  EXPECT_TRUE(make().destroy().ok());
  EXPECT_TRUE(fs_.removed_dirs().empty());
}

}  // namespace
}  // namespace gantry::runtime
