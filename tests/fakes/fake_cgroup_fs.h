// FakeCgroupFs: a CgroupFs over an ordinary directory tree (a TempDir), standing in for the
// kernel in the cgroup managers' unit tests. It records every write, mkdir, rmdir and kill;
// mkdir fills a new directory with the control files a kernel would show (v1 or v2 flavour);
// cgroup.subtree_control takes "+ctrl"/"-ctrl" like the kernel and new children's
// cgroup.controllers follow it; rmdir refuses a cgroup that still has pids or children; and
// on_kill / on_pause hooks let a test play the kernel (a pid leaving cgroup.procs). Not
// thread-safe.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "runtime/cgroups/cgroup_fs.h"

namespace gantry::testing {

class FakeCgroupFs : public runtime::CgroupFs {
 public:
  enum class Flavour { kV1, kV2 };
  struct Write {
    std::string dir, file, value;
    bool operator==(const Write&) const = default;
  };

  // Files to put into each new directory, by flavour; a test may add to or change them.
  std::map<std::string, std::string> new_dir_files;

  explicit FakeCgroupFs(Flavour flavour);

  // Makes `dir` (and missing parents) as cgroups, each with the flavour's files (existing
  // files are kept).
  void make_cgroup(const std::string& dir);
  // Writes a file directly (not recorded): test set-up, like the kernel changing a value.
  void put(const std::string& path, const std::string& content);
  std::string get(const std::string& path) const;

  // Makes the next writes of `file` (by name) fail with `err`.
  void fail_writes_of(const std::string& file, int err) { fail_[file] = err; }

  const std::vector<Write>& writes() const { return writes_; }
  // Writes of `file` (by name), in order, as "dir: value" relative to nothing: just values.
  std::vector<std::string> values_written(const std::string& dir, const std::string& file) const;
  const std::vector<std::string>& made_dirs() const { return mkdirs_; }
  const std::vector<std::string>& removed_dirs() const { return rmdirs_; }
  const std::vector<std::pair<pid_t, int>>& kills() const { return kills_; }
  int pauses() const { return pauses_; }

  std::function<void(pid_t, int)> on_kill;
  std::function<void(int pause_number)> on_pause;
  // Runs after each recorded write (a test can mimic the kernel reacting to it).
  std::function<void(const Write&)> on_write;

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

  // When set, attach_device_filter() fails with this errno.
  int fail_device_filter = 0;
  // Device filters attached, by cgroup directory (run them with run_device_filter()).
  std::map<std::string, std::vector<bpf_insn>> device_filters;

 private:
  Flavour flavour_;
  std::map<std::string, int> fail_;
  std::vector<Write> writes_;
  std::vector<std::string> mkdirs_;
  std::vector<std::string> rmdirs_;
  std::vector<std::pair<pid_t, int>> kills_;
  int pauses_ = 0;
};

}  // namespace gantry::testing
