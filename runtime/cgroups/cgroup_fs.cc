#include "runtime/cgroups/cgroup_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/file.h"
#include "common/unique_fd.h"

namespace gantry::runtime {

namespace {
constexpr size_t kMaxValueInError = 64;
}  // namespace

Error cgroup_write_error(const std::string& dir, const std::string& file, std::string_view value,
                         int err) {
  std::string v(value.substr(0, kMaxValueInError));
  if (value.size() > kMaxValueInError) v += "…";
  while (!v.empty() && v.back() == '\n') v.pop_back();
  return sys_error("write '" + file + "' = '" + v + "' in '" + dir + "'", err);
}

Result<std::string> LinuxCgroupFs::read(const std::string& dir, const std::string& file) {
  return read_file(join_path(dir, file));
}

Status LinuxCgroupFs::write(const std::string& dir, const std::string& file,
                            std::string_view value) {
  std::string path = join_path(dir, file);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return cgroup_write_error(dir, file, value, errno);
  ssize_t n;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return cgroup_write_error(dir, file, value, errno);
  if (static_cast<size_t>(n) != value.size()) return cgroup_write_error(dir, file, value, EIO);
  return ok_status();
}

Status LinuxCgroupFs::mkdir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0) return sys_error("create cgroup '" + dir + "'");
  return ok_status();
}

Status LinuxCgroupFs::rmdir(const std::string& dir) {
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return sys_error("remove cgroup '" + dir + "'");
  return ok_status();
}

bool LinuxCgroupFs::exists(const std::string& path) { return path_exists(path); }

Result<std::vector<std::string>> LinuxCgroupFs::child_dirs(const std::string& dir) {
  // cgroupfs reports d_type, so a cgroup's dozens of control files need no stat each.
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return sys_error("list cgroup '" + dir + "'");
  std::vector<std::string> out;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    if (e->d_type == DT_DIR ||
        (e->d_type == DT_UNKNOWN && is_directory(join_path(dir, std::string(name))))) {
      out.emplace_back(name);
    }
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return sys_error("list cgroup '" + dir + "'", err);
  std::sort(out.begin(), out.end());
  return out;
}

Status LinuxCgroupFs::attach_device_filter(const std::string& dir,
                                           const std::vector<bpf_insn>& program) {
  static char license[] = "GPL";
  std::string log(64 * 1024, '\0');
  union bpf_attr load {};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(program.data());
  load.insn_cnt = static_cast<uint32_t>(program.size());
  load.license = reinterpret_cast<uint64_t>(license);
  load.log_buf = reinterpret_cast<uint64_t>(log.data());
  load.log_size = static_cast<uint32_t>(log.size());
  load.log_level = 1;
  UniqueFd prog(static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load))));
  if (!prog) {
    int err = errno;
    std::string what = "load the device filter for cgroup '" + dir + "'";
    log.resize(std::strlen(log.c_str()));
    // The verifier's last line says why it refused the program.
    std::string reason;
    size_t start = 0;
    while (start < log.size()) {
      size_t end = log.find('\n', start);
      if (end == std::string::npos) end = log.size();
      std::string line = log.substr(start, end - start);
      if (!line.empty() && !line.starts_with("processed ")) reason = line;
      start = end + 1;
    }
    if (!reason.empty()) what += " (verifier: " + reason + ")";
    return sys_error(what, err);
  }
  UniqueFd cgroup(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cgroup) return sys_error("open cgroup '" + dir + "'");
  union bpf_attr attach {};
  attach.target_fd = static_cast<uint32_t>(cgroup.get());
  attach.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (::syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach)) != 0)
    return sys_error("attach the device filter to cgroup '" + dir + "'");
  // The attachment holds the program now; our fd can go.
  return ok_status();
}

Status LinuxCgroupFs::kill(pid_t pid, int signal) {
  if (::kill(pid, signal) != 0 && errno != ESRCH)
    return sys_error("kill pid " + std::to_string(pid) + " with signal " + std::to_string(signal));
  return ok_status();
}

void LinuxCgroupFs::pause() {
  struct timespec ts = {0, 5 * 1000 * 1000};  // 5 ms
  ::nanosleep(&ts, nullptr);
}

CgroupFs& linux_cgroup_fs() {
  static LinuxCgroupFs fs;
  return fs;
}

}  // namespace gantry::runtime
