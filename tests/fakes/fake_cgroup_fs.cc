#include "tests/fakes/fake_cgroup_fs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "common/file.h"
#include "common/strings.h"

namespace gantry::testing {

using runtime::LinuxCgroupFs;

namespace {

std::string parent_of(const std::string& dir) { return dir.substr(0, dir.rfind('/')); }

}  // namespace

FakeCgroupFs::FakeCgroupFs(Flavour flavour) : flavour_(flavour) {
  if (flavour == Flavour::kV2) {
    new_dir_files = {{"cgroup.procs", ""},
                     {"cgroup.subtree_control", ""},
                     {"cgroup.controllers", ""},
                     {"cgroup.events", "populated 0\nfrozen 0\n"},
                     {"cgroup.freeze", "0\n"},
                     {"cgroup.kill", ""},
                     {"cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n"}};
  } else {
    new_dir_files = {{"cgroup.procs", ""}, {"tasks", ""}};
  }
}

void FakeCgroupFs::make_cgroup(const std::string& dir) {
  // Every directory made on the way is a cgroup too, with its control files.
  if (!is_directory(dir) && dir.rfind('/') > 0) make_cgroup(parent_of(dir));
  if (!is_directory(dir)) GANTRY_CHECK(make_dirs(dir).ok());
  for (const auto& [file, content] : new_dir_files) {
    if (!path_exists(join_path(dir, file))) put(join_path(dir, file), content);
  }
}

void FakeCgroupFs::put(const std::string& path, const std::string& content) {
  GANTRY_CHECK(write_file(path, content).ok());
}

std::string FakeCgroupFs::get(const std::string& path) const {
  auto r = read_file(path);
  return r.ok() ? *r : "<missing>";
}

std::vector<std::string> FakeCgroupFs::values_written(const std::string& dir,
                                                      const std::string& file) const {
  std::vector<std::string> out;
  for (const auto& w : writes_)
    if (w.dir == dir && w.file == file) out.push_back(w.value);
  return out;
}

Result<std::string> FakeCgroupFs::read(const std::string& dir, const std::string& file) {
  return read_file(join_path(dir, file));
}

Status FakeCgroupFs::write(const std::string& dir, const std::string& file,
                           std::string_view value) {
  if (auto it = fail_.find(file); it != fail_.end())
    return runtime::cgroup_write_error(dir, file, value, it->second);
  std::string path = join_path(dir, file);
  if (!is_directory(dir)) return runtime::cgroup_write_error(dir, file, value, ENOENT);
  Write w{dir, file, std::string(value)};
  writes_.push_back(w);
  if (file == "cgroup.subtree_control" && flavour_ == Flavour::kV2) {
    std::vector<std::string> enabled;
    std::istringstream cur(get(path)), in{std::string(value)};
    for (std::string c; cur >> c;) enabled.push_back(c);
    for (std::string tok; in >> tok;) {
      std::string name = tok.substr(1);
      std::erase(enabled, name);
      if (tok[0] == '+') enabled.push_back(name);
    }
    std::string text;
    for (const auto& c : enabled) text += (text.empty() ? "" : " ") + c;
    put(path, text + "\n");
  } else if (file == "cgroup.procs" || file == "devices.allow" || file == "devices.deny") {
    // Appending files in the kernel's eyes: each write adds a line.
    std::string old = path_exists(path) ? get(path) : "";
    put(path, old + std::string(value) + "\n");
  } else {
    put(path, std::string(value) + "\n");
  }
  if (on_write) on_write(w);
  return ok_status();
}

Status FakeCgroupFs::mkdir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0) return sys_error("create cgroup '" + dir + "'");
  mkdirs_.push_back(dir);
  for (const auto& [file, content] : new_dir_files) put(join_path(dir, file), content);
  if (flavour_ == Flavour::kV2) {
    put(join_path(dir, "cgroup.controllers"),
        get(join_path(parent_of(dir), "cgroup.subtree_control")));
  }
  return ok_status();
}

Status FakeCgroupFs::rmdir(const std::string& dir) {
  if (!is_directory(dir)) return ok_status();
  auto children = child_dirs(dir);
  if (!children.ok()) return std::move(children).error();
  if (!children->empty() || !trim(get(join_path(dir, "cgroup.procs"))).empty())
    return sys_error("remove cgroup '" + dir + "'", EBUSY);
  rmdirs_.push_back(dir);
  return remove_all(dir);
}

bool FakeCgroupFs::exists(const std::string& path) { return path_exists(path); }

Result<std::vector<std::string>> FakeCgroupFs::child_dirs(const std::string& dir) {
  return LinuxCgroupFs().child_dirs(dir);
}

Status FakeCgroupFs::attach_device_filter(const std::string& dir,
                                          const std::vector<bpf_insn>& program) {
  if (!is_directory(dir)) return sys_error("open cgroup '" + dir + "'", ENOENT);
  if (fail_device_filter)
    return sys_error("load the device filter for cgroup '" + dir + "'", fail_device_filter);
  device_filters[dir] = program;
  return ok_status();
}

Status FakeCgroupFs::kill(pid_t pid, int signal) {
  kills_.emplace_back(pid, signal);
  if (on_kill) on_kill(pid, signal);
  return ok_status();
}

void FakeCgroupFs::pause() {
  ++pauses_;
  if (on_pause) on_pause(pauses_);
}

}  // namespace gantry::testing
