#include <gtest/gtest.h>

#include "common/file.h"
#include "runtime/cgroups/cgroup_fs.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime {
namespace {

TEST(LinuxCgroupFsTest, WriteErrorNamesFileValueAndDir) {
  gantry::testing::TempDir tmp;
  LinuxCgroupFs fs;
  Status s = fs.write(tmp.path(), "memory.max", "1048576");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(),
            "write 'memory.max' = '1048576' in '" + tmp.path() + "': no such file or directory");
  EXPECT_EQ(s.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.error().sys_errno(), ENOENT);
}

TEST(LinuxCgroupFsTest, LongValuesAreShortenedInErrors) {
  Error e = cgroup_write_error("/cg", "cpuset.cpus", std::string(100, '1') + "\n", EINVAL);
  EXPECT_EQ(e.message(), "write 'cpuset.cpus' = '" + std::string(64, '1') +
                             "…' in '/cg': " + "invalid argument");
}

TEST(LinuxCgroupFsTest, WritesOneValueAndReadsItBack) {
  gantry::testing::TempDir tmp;
  ASSERT_TRUE(write_file(tmp.file("pids.max"), "max\n").ok());
  LinuxCgroupFs fs;
  ASSERT_TRUE(fs.write(tmp.path(), "pids.max", "10").ok());
  auto back = fs.read(tmp.path(), "pids.max");
  ASSERT_TRUE(back.ok());
  // A cgroup file takes the value whole; on a plain file the old tail stays (no O_TRUNC).
  EXPECT_EQ(back->substr(0, 2), "10");
}

TEST(LinuxCgroupFsTest, MkdirRmdirAndChildDirs) {
  gantry::testing::TempDir tmp;
  LinuxCgroupFs fs;
  ASSERT_TRUE(fs.mkdir(tmp.file("a")).ok());
  Status again = fs.mkdir(tmp.file("a"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  Status orphan = fs.mkdir(tmp.file("missing/b"));
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(write_file(tmp.file("cgroup.procs"), "").ok());
  EXPECT_EQ(*fs.child_dirs(tmp.path()), std::vector<std::string>{"a"});
  ASSERT_TRUE(fs.rmdir(tmp.file("a")).ok());
  EXPECT_TRUE(fs.rmdir(tmp.file("a")).ok());  // already gone: fine
  EXPECT_TRUE(fs.child_dirs(tmp.path())->empty());
}

}  // namespace
}  // namespace gantry::runtime
