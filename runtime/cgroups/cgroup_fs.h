// CgroupFs: every OS call the cgroup managers make — control-file reads and writes, mkdir,
// rmdir, kill, and the pause between polls of event-less kernel state — behind one seam, as
// leveldb's Env. LinuxCgroupFs is the real one; unit tests run the managers over a fixture tree
// in a temp dir with a fake that records kills and simulates the kernel. All writes go through
// write(), so errors read "write 'memory.max' = '1024' in '/sys/fs/cgroup/x': invalid argument".
// Stateless and thread-safe (LinuxCgroupFs); fakes are not.
#pragma once

#include <linux/bpf.h>
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace gantry::runtime {

class CgroupFs {
 public:
  virtual ~CgroupFs() = default;

  // Whole content of `dir`/`file`; errors name the file and directory.
  virtual Result<std::string> read(const std::string& dir, const std::string& file) = 0;
  // One write(2) of `value` to `dir`/`file` (cgroup files take a value in one write).
  virtual Status write(const std::string& dir, const std::string& file, std::string_view value) = 0;
  // Creates one directory; kAlreadyExists if it is there, kNotFound if its parent is not.
  virtual Status mkdir(const std::string& dir) = 0;
  // Removes one (cgroup) directory; a missing one is fine. kAlreadyExists (EBUSY) while it
  // has processes or children.
  virtual Status rmdir(const std::string& dir) = 0;
  virtual bool exists(const std::string& path) = 0;
  // Names of the subdirectories of `dir` (child cgroups), sorted.
  virtual Result<std::vector<std::string>> child_dirs(const std::string& dir) = 0;
  // Loads `program` (device_filter.h) as a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it
  // to the cgroup `dir` (BPF_F_ALLOW_MULTI: a parent's program still applies too).
  virtual Status attach_device_filter(const std::string& dir,
                                      const std::vector<bpf_insn>& program) = 0;
  // kill(2); a process that is already gone is fine.
  virtual Status kill(pid_t pid, int signal) = 0;
  // Waits a little before polling kernel state again (freezer state, an emptying cgroup).
  virtual void pause() = 0;
};

class LinuxCgroupFs : public CgroupFs {
 public:
  Result<std::string> read(const std::string& dir, const std::string& file) override;
  Status write(const std::string& dir, const std::string& file, std::string_view value) override;
  Status mkdir(const std::string& dir) override;
  Status rmdir(const std::string& dir) override;
  bool exists(const std::string& path) override;
  Result<std::vector<std::string>> child_dirs(const std::string& dir) override;
  Status attach_device_filter(const std::string& dir,
                              const std::vector<bpf_insn>& program) override;
  Status kill(pid_t pid, int signal) override;
  void pause() override;
};

// The process-wide LinuxCgroupFs the managers use when given none.
CgroupFs& linux_cgroup_fs();

// The error write() returns: "write '<file>' = '<value>' in '<dir>': <strerror(err)>", with a
// long value shortened.
Error cgroup_write_error(const std::string& dir, const std::string& file, std::string_view value,
                         int err);

}  // namespace gantry::runtime
