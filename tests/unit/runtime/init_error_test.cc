#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>

#include "runtime/init.h"

namespace gantry::runtime {
namespace {

SyncMessage report(InitStep step, int err, int index = -1, const char* path = "", int status = 0) {
  SyncMessage m;
  m.type = SyncType::kError;
  m.step = step;
  m.err = err;
  m.index = index;
  m.status = status;
  std::strncpy(m.path, path, sizeof m.path - 1);
  return m;
}

class InitErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plan_.rootfs = "/b/rootfs";
    plan_.mounts.push_back({MountOp::Kind::kMount, "proc", "/proc", "proc", 0, 0, false, ""});
    plan_.mounts.push_back(
        {MountOp::Kind::kBind, "/srv/data", "/data", "", MS_RDONLY, 0, true, ""});
    plan_.masked_paths = {"/proc/kcore"};
    sec_.rlimits.entries[0] = {RLIMIT_NOFILE, 10, 10};
    sec_.rlimits.count = 1;
  }
  LaunchPlan plan_;
  ProcessSecurity sec_;
};

TEST_F(InitErrorTest, MountStepsNameSourceAndHostPath) {
  Error e = init_error(report(InitStep::kMount, EACCES, 0), &plan_, sec_);
  EXPECT_EQ(e.message(), "mount 'proc' at '/b/rootfs/proc': permission denied");
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(init_error(report(InitStep::kStatBindSource, ENOENT, 1), &plan_, sec_).message(),
            "bind mount source '/srv/data': no such file or directory");
  EXPECT_EQ(init_error(report(InitStep::kRemount, EPERM, 1), &plan_, sec_).message(),
            "remount '/b/rootfs/data': operation not permitted");
}

TEST_F(InitErrorTest, PathsFromTheChildAndPlanEntries) {
  EXPECT_EQ(init_error(report(InitStep::kPivotRoot, EINVAL, -1, "/b/rootfs"), &plan_, sec_)
                .message(),
            "pivot_root to '/b/rootfs': invalid argument");
  EXPECT_EQ(init_error(report(InitStep::kMaskPath, EBUSY, 0), &plan_, sec_).message(),
            "mask '/proc/kcore': device or resource busy");
  EXPECT_EQ(init_error(report(InitStep::kRlimit, EPERM, 0), &plan_, sec_).message(),
            "set rlimit 'RLIMIT_NOFILE': operation not permitted");
  EXPECT_EQ(init_error(report(InitStep::kLookupExecutable, ENOENT, -1, "make"), nullptr, sec_)
                .message(),
            "find executable 'make' in PATH: no such file or directory");
}

TEST_F(InitErrorTest, OutOfRangeIndexStillReadsAsAStep) {
  Error e = init_error(report(InitStep::kMount, EIO, 9), &plan_, sec_);
  EXPECT_NE(e.message().find("input/output error"), std::string::npos) << e.message();
}

TEST_F(InitErrorTest, HookOutcomes) {
  EXPECT_EQ(init_error(report(InitStep::kHookCreateContainer, 0, 1, "/h", 3), &plan_, sec_)
                .message(),
            "createContainer hook[1] '/h': exited with status 3");
  EXPECT_EQ(init_error(report(InitStep::kHookStartContainer, 0, 0, "/h", -9), &plan_, sec_)
                .message(),
            "startContainer hook[0] '/h': killed by signal 9");
  Error t = init_error(report(InitStep::kHookStartContainer, ETIMEDOUT, 0, "/h"), &plan_, sec_);
  EXPECT_EQ(t.message(), "startContainer hook[0] '/h': timed out");
  EXPECT_EQ(t.code(), ErrorCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace gantry::runtime
