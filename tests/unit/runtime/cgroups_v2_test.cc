// CgroupV2Manager over a fixture tree: FakeCgroupFs plays the kernel.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include "common/file.h"
#include "runtime/cgroups/tree.h"
#include "runtime/cgroups/v2.h"
#include "tests/fakes/bpf_device_interpreter.h"
#include "tests/fakes/fake_cgroup_fs.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime {
namespace {

using gantry::testing::FakeCgroupFs;

class CgroupV2ManagerTest : public ::testing::Test {
 protected:
  CgroupV2ManagerTest() : fs_(FakeCgroupFs::Flavour::kV2) {
    root_ = tmp_.path() + "/cgroup";
    fs_.make_cgroup(root_);
    fs_.put(root_ + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
    leaf_ = root_ + "/gantry/job-1";
  }
  std::string file(const std::string& rel) { return fs_.get(root_ + rel); }

  gantry::testing::TempDir tmp_;
  FakeCgroupFs fs_;
  std::string root_;
  std::string leaf_;
  CgroupV2Manager make(const std::string& path = "/gantry/job-1") {
    return CgroupV2Manager(root_, path, &fs_);
  }
};

TEST_F(CgroupV2ManagerTest, CreateEnablesControllersInEveryParentAndWritesLimits) {
  auto m = make();
  Resources r;
  r.memory_limit = 1 << 20;
  r.cpu_shares = 1024;
  r.pids_limit = 10;
  ASSERT_TRUE(m.create(r).ok());
  EXPECT_EQ(fs_.made_dirs(), (std::vector<std::string>{root_ + "/gantry", leaf_}));
  // The limits' controllers first, then the defaults the host has (io, for usage numbers).
  EXPECT_EQ(file("/cgroup.subtree_control"), "memory cpu pids io\n");
  EXPECT_EQ(file("/gantry/cgroup.subtree_control"), "memory cpu pids io\n");
  EXPECT_EQ(file("/gantry/job-1/cgroup.controllers"), "memory cpu pids io\n");
  EXPECT_EQ(file("/gantry/job-1/memory.max"), "1048576\n");
  EXPECT_EQ(file("/gantry/job-1/cpu.weight"), "39\n");
  EXPECT_EQ(file("/gantry/job-1/pids.max"), "10\n");
  // Nothing is written into the leaf's own subtree_control: processes live in the leaf.
  EXPECT_TRUE(fs_.values_written(leaf_, "cgroup.subtree_control").empty());
  EXPECT_EQ(m.host_paths(), std::vector<std::string>{leaf_});
  EXPECT_EQ(m.version(), CgroupVersion::kV2);
}

TEST_F(CgroupV2ManagerTest, SwapWritesNeedingNoSwapLimitAreSkippedWithoutSwapFiles) {
  Resources r;
  r.memory_limit = 1 << 20;
  r.memory_swap = 1 << 20;  // no swap on top of memory: "0", skippable
  ASSERT_TRUE(make().create(r).ok());
  EXPECT_TRUE(fs_.values_written(leaf_, "memory.swap.max").empty());
  // With the file there (swap accounting on), it is written.
  fs_.new_dir_files["memory.swap.max"] = "max\n";
  ASSERT_TRUE(make("/gantry/job-2").create(r).ok());
  EXPECT_EQ(file("/gantry/job-2/memory.swap.max"), "0\n");
}

TEST_F(CgroupV2ManagerTest, CreateLeavesAlreadyEnabledControllersAlone) {
  fs_.put(root_ + "/cgroup.subtree_control", "cpu io memory pids\n");
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  EXPECT_TRUE(fs_.values_written(root_, "cgroup.subtree_control").empty());
  EXPECT_EQ(fs_.values_written(root_ + "/gantry", "cgroup.subtree_control"),
            (std::vector<std::string>{"+cpu", "+io", "+memory", "+pids"}));
}

TEST_F(CgroupV2ManagerTest, CreateTwiceIsAlreadyExists) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  Status again = make().create(Resources{});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.error().message(), "cgroup '" + leaf_ + "' exists already");
}

TEST_F(CgroupV2ManagerTest, MissingControllerIsAnErrorNamingItAndMakesNothing) {
  fs_.put(root_ + "/cgroup.controllers", "memory\n");
  Resources r;
  r.pids_limit = 5;
  Status s = make().create(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(s.error().message(),
            "set 'pids.max': cgroup v2 controller 'pids' is not available in '" + root_ +
                "' (it has: 'memory')");
  EXPECT_TRUE(fs_.made_dirs().empty());
}

TEST_F(CgroupV2ManagerTest, FailedWriteReadsWellAndRollsBack) {
  fs_.fail_writes_of("memory.max", EINVAL);
  Resources r;
  r.memory_limit = 1 << 20;
  Status s = make().create(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(),
            "write 'memory.max' = '1048576' in '" + leaf_ + "': invalid argument");
  EXPECT_EQ(s.error().sys_errno(), EINVAL);
  EXPECT_FALSE(path_exists(leaf_));
  EXPECT_FALSE(path_exists(root_ + "/gantry"));  // Gantry's empty parent goes too
}

TEST_F(CgroupV2ManagerTest, CreateAttachesTheDeviceFilterOfTheRules) {
  Resources r;
  r.devices.resize(2);
  r.devices[0].allow = false;  // deny all
  r.devices[1].allow = true;   // allow /dev/fuse
  r.devices[1].type = "c";
  r.devices[1].major = 10;
  r.devices[1].minor = 229;
  ASSERT_TRUE(make().create(r).ok());
  ASSERT_EQ(fs_.device_filters.count(leaf_), 1u);
  const auto& prog = fs_.device_filters[leaf_];
  EXPECT_EQ(gantry::testing::run_device_filter(prog, 'c', 10, 229, "rw"), 1);
  EXPECT_EQ(gantry::testing::run_device_filter(prog, 'c', 1, 3, "rw"), 1);  // standard /dev/null
  EXPECT_EQ(gantry::testing::run_device_filter(prog, 'b', 8, 0, "r"), 0);
}

TEST_F(CgroupV2ManagerTest, BadDeviceRuleMakesNothing) {
  Resources r;
  r.devices.resize(1);
  r.devices[0].type = "q";
  Status s = make().create(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(fs_.made_dirs().empty());
}

TEST_F(CgroupV2ManagerTest, FailedDeviceFilterRollsBack) {
  fs_.fail_device_filter = EPERM;
  Status s = make().create(Resources{});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(),
            "load the device filter for cgroup '" + leaf_ + "': operation not permitted");
  EXPECT_FALSE(path_exists(leaf_));
  EXPECT_FALSE(path_exists(root_ + "/gantry"));
}

TEST_F(CgroupV2ManagerTest, UpdateEnablesNewlyNeededControllersAndWrites) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  Resources r;
  r.cpuset_cpus = "0";
  r.cpu_quota = 20000;
  ASSERT_TRUE(m.update(r).ok());
  EXPECT_EQ(file("/cgroup.subtree_control"), "cpu io memory pids cpuset\n");
  EXPECT_EQ(file("/gantry/cgroup.subtree_control"), "cpu io memory pids cpuset\n");
  EXPECT_EQ(file("/gantry/job-1/cpuset.cpus"), "0\n");
  EXPECT_EQ(file("/gantry/job-1/cpu.max"), "20000 100000\n");
}

TEST_F(CgroupV2ManagerTest, UpdateOfMissingCgroupIsNotFound) {
  Resources r;
  r.pids_limit = 3;
  Status s = make().update(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.error().message(), "cgroup '" + leaf_ + "' does not exist");
}

TEST_F(CgroupV2ManagerTest, AddProcessAndPidsIncludeDescendants) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  ASSERT_TRUE(m.add_process(4242).ok());
  EXPECT_EQ(fs_.values_written(leaf_, "cgroup.procs"), std::vector<std::string>{"4242"});
  fs_.make_cgroup(leaf_ + "/inner");
  fs_.put(leaf_ + "/inner/cgroup.procs", "77\n78\n");
  auto pids = m.pids();
  ASSERT_TRUE(pids.ok()) << pids.error().message();
  EXPECT_EQ(*pids, (std::vector<pid_t>{4242, 77, 78}));
}

TEST_F(CgroupV2ManagerTest, KillAllUsesCgroupKillWhenPresent) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  fs_.put(leaf_ + "/cgroup.procs", "10\n11\n");
  ASSERT_TRUE(m.kill_all(SIGKILL).ok());
  EXPECT_EQ(fs_.values_written(leaf_, "cgroup.kill"), std::vector<std::string>{"1"});
  EXPECT_TRUE(fs_.kills().empty());
  EXPECT_TRUE(fs_.values_written(leaf_, "cgroup.freeze").empty());
}

TEST_F(CgroupV2ManagerTest, KillAllWithoutCgroupKillFreezesKillsAndThaws) {
  fs_.new_dir_files.erase("cgroup.kill");  // a kernel before 5.14
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  fs_.put(leaf_ + "/cgroup.procs", "10\n11\n");
  fs_.on_write = [&](const FakeCgroupFs::Write& w) {
    if (w.file == "cgroup.freeze")
      fs_.put(w.dir + "/cgroup.events", std::string("populated 1\nfrozen ") + w.value + "\n");
  };
  std::vector<std::string> freeze_state_at_kill;
  fs_.on_kill = [&](pid_t, int) {
    freeze_state_at_kill.push_back(file("/gantry/job-1/cgroup.freeze"));
  };
  ASSERT_TRUE(m.kill_all(SIGKILL).ok());
  EXPECT_EQ(fs_.kills(), (std::vector<std::pair<pid_t, int>>{{10, SIGKILL}, {11, SIGKILL}}));
  EXPECT_EQ(freeze_state_at_kill, (std::vector<std::string>{"1\n", "1\n"}));
  EXPECT_EQ(fs_.values_written(leaf_, "cgroup.freeze"), (std::vector<std::string>{"1", "0"}));
}

TEST_F(CgroupV2ManagerTest, KillAllWithOtherSignalsSignalsEachProcess) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  fs_.put(leaf_ + "/cgroup.procs", "10\n");
  fs_.make_cgroup(leaf_ + "/inner");
  fs_.put(leaf_ + "/inner/cgroup.procs", "12\n");
  ASSERT_TRUE(m.kill_all(SIGTERM).ok());
  EXPECT_EQ(fs_.kills(), (std::vector<std::pair<pid_t, int>>{{10, SIGTERM}, {12, SIGTERM}}));
  EXPECT_TRUE(fs_.values_written(leaf_, "cgroup.kill").empty());
}

TEST_F(CgroupV2ManagerTest, FreezeWaitsUntilTheKernelSaysFrozen) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  fs_.on_pause = [&](int n) {
    if (n == 3) fs_.put(leaf_ + "/cgroup.events", "populated 1\nfrozen 1\n");
  };
  ASSERT_TRUE(m.freeze().ok());
  EXPECT_EQ(fs_.pauses(), 3);
  ASSERT_TRUE(m.thaw().ok());
  EXPECT_EQ(fs_.values_written(leaf_, "cgroup.freeze"), (std::vector<std::string>{"1", "0"}));
}

TEST_F(CgroupV2ManagerTest, FreezeGivesUpAfterTheBound) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  Status s = m.freeze();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(s.error().message(), "freeze cgroup '" + leaf_ + "': its processes did not all stop");
  EXPECT_EQ(fs_.pauses(), kCgroupPollLimit);
}

TEST_F(CgroupV2ManagerTest, UsageReadsCpuPeakOomAndPids) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  fs_.put(leaf_ + "/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
  fs_.put(leaf_ + "/memory.peak", "4096\n");
  fs_.put(leaf_ + "/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n");
  fs_.put(leaf_ + "/pids.current", "3\n");
  auto u = m.usage();
  ASSERT_TRUE(u.ok()) << u.error().message();
  EXPECT_EQ(u->cpu_usage_ns, 1500000u);
  EXPECT_EQ(u->memory_peak_bytes, 4096u);
  EXPECT_EQ(u->oom_kills, 2u);
  EXPECT_TRUE(u->oom_killed());
  EXPECT_EQ(u->pids_current, 3u);
}

TEST_F(CgroupV2ManagerTest, UsageWithoutMemoryControllerFilesIsZeroAndCountsProcs) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  fs_.put(leaf_ + "/cgroup.procs", "5\n6\n");
  auto u = m.usage();
  ASSERT_TRUE(u.ok()) << u.error().message();
  EXPECT_EQ(u->memory_peak_bytes, 0u);
  EXPECT_EQ(u->oom_kills, 0u);
  EXPECT_EQ(u->pids_current, 2u);
}

TEST_F(CgroupV2ManagerTest, DestroyKillsWaitsAndRemovesChildFirst) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  fs_.put(leaf_ + "/cgroup.procs", "20\n");
  fs_.make_cgroup(leaf_ + "/inner");
  fs_.put(leaf_ + "/inner/cgroup.procs", "21\n");
  // The kernel takes a while to reap what cgroup.kill killed.
  fs_.on_pause = [&](int n) {
    if (n == 2) {
      fs_.put(leaf_ + "/cgroup.procs", "");
      fs_.put(leaf_ + "/inner/cgroup.procs", "");
    }
  };
  ASSERT_TRUE(m.destroy().ok());
  EXPECT_EQ(fs_.values_written(leaf_, "cgroup.kill"), std::vector<std::string>{"1"});
  EXPECT_EQ(fs_.pauses(), 2);
  EXPECT_EQ(fs_.removed_dirs(),
            (std::vector<std::string>{leaf_ + "/inner", leaf_, root_ + "/gantry"}));
  EXPECT_TRUE(path_exists(root_));
}

TEST_F(CgroupV2ManagerTest, DestroyKeepsAParentOtherContainersUse) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  ASSERT_TRUE(make("/gantry/job-2").create(Resources{}).ok());
  ASSERT_TRUE(m.destroy().ok());
  EXPECT_FALSE(path_exists(leaf_));
  EXPECT_TRUE(path_exists(root_ + "/gantry/job-2"));
}

TEST_F(CgroupV2ManagerTest, DestroyDoesNotRemoveParentsOutsideGantrys) {
  fs_.make_cgroup(root_ + "/mine");
  auto m = make("/mine/job");
  ASSERT_TRUE(m.create(Resources{}).ok());
  ASSERT_TRUE(m.destroy().ok());
  EXPECT_FALSE(path_exists(root_ + "/mine/job"));
  EXPECT_TRUE(path_exists(root_ + "/mine"));
}

TEST_F(CgroupV2ManagerTest, DestroyOfMissingCgroupSucceeds) {
  EXPECT_TRUE(make().destroy().ok());
  EXPECT_TRUE(fs_.removed_dirs().empty());
}

TEST_F(CgroupV2ManagerTest, DestroyGivesUpOnAProcessThatNeverLeaves) {
  auto m = make();
  ASSERT_TRUE(m.create(Resources{}).ok());
  fs_.put(leaf_ + "/cgroup.procs", "30\n");
  Status s = m.destroy();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(s.error().message(), "wait for cgroup '" + leaf_ + "' to empty: pid 30 is still in it");
  EXPECT_TRUE(path_exists(leaf_));
}

TEST_F(CgroupV2ManagerTest, OperationsOnMissingCgroupAreNotFound) {
  auto m = make();
  EXPECT_EQ(m.kill_all(SIGKILL).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(m.freeze().error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(m.usage().error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(m.pids().error().code(), ErrorCode::kNotFound);
}

TEST_F(CgroupV2ManagerTest, CloneTargetIsTheLeafOnceCreated) {
  auto m = make();
  EXPECT_FALSE(m.open_clone_target());  // nothing to clone into yet
  ASSERT_TRUE(m.create(Resources{}).ok());
  UniqueFd fd = m.open_clone_target();
  ASSERT_TRUE(fd);
  struct stat by_fd, by_path;
  ASSERT_EQ(::fstat(fd.get(), &by_fd), 0);
  ASSERT_EQ(::stat(leaf_.c_str(), &by_path), 0);
  EXPECT_EQ(by_fd.st_ino, by_path.st_ino);
  EXPECT_EQ(by_fd.st_dev, by_path.st_dev);
}

}  // namespace
}  // namespace gantry::runtime
