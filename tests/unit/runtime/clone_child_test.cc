// clone_child() without namespaces (no root needed): the fallback when the kernel will not
// clone into the given cgroup, and plain clone without one.
#include "runtime/clone_child.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/unique_fd.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime {
namespace {

int wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(CloneChildTest, WithoutACgroupItIsAPlainClone) {
  ClonedChild c = clone_child(0, -1);
  if (c.pid == 0) ::_exit(7);
  ASSERT_GT(c.pid, 0);
  EXPECT_FALSE(c.in_cgroup);
  EXPECT_EQ(wait_status(c.pid), 7);
}

TEST(CloneChildTest, FallsBackWhenTheKernelRefusesTheCgroup) {
  // A directory that is no cgroup2 directory: clone3 refuses it (or the kernel has no clone3);
  // either way the child must still start, outside any cgroup it was given.
  gantry::testing::TempDir tmp;
  UniqueFd dir(::open(tmp.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir);
  ClonedChild c = clone_child(0, dir.get());
  if (c.pid == 0) ::_exit(9);
  ASSERT_GT(c.pid, 0);
  EXPECT_FALSE(c.in_cgroup);
  EXPECT_EQ(wait_status(c.pid), 9);
}

}  // namespace
}  // namespace gantry::runtime
