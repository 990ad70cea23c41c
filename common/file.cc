#include "common/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "common/scratch_file.h"
#include "common/unique_fd.h"

namespace gantry {

namespace {

std::string quoted(std::string_view p) {
  std::string s = "'";
  s.append(p).append("'");
  return s;
}

Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write " + quoted(path));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok_status();
}

Status remove_tree_at(int parent_fd, const char* name, dev_t dev, const std::string& path) {
  struct stat st;
  if (::fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return ok_status();
    return sys_error("stat " + quoted(path));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(parent_fd, name, 0) != 0 && errno != ENOENT)
      return sys_error("unlink " + quoted(path));
    return ok_status();
  }
  if (st.st_dev != dev) {
    return Error(ErrorCode::kFailedPrecondition,
                 "remove " + quoted(path) + ": a file system is mounted there");
  }
  int fd = ::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + quoted(path));
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return sys_error("opendir " + quoted(path));
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  Status status;
  for (const auto& n : names) {
    status = remove_tree_at(::dirfd(dir), n.c_str(), dev, join_path(path, n));
    if (!status.ok()) break;
  }
  ::closedir(dir);
  GANTRY_TRY(status);
  if (::unlinkat(parent_fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
    return sys_error("rmdir " + quoted(path));
  return ok_status();
}

}  // namespace

Result<std::string> read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error("open " + quoted(path));
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read " + quoted(path));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

namespace {

Status replace_file(const std::string& path, std::string_view data, mode_t mode, bool sync) {
  static std::atomic<unsigned> counter{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                    std::to_string(counter.fetch_add(1));
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd) return sys_error("create " + quoted(tmp));
  Status st = write_all(fd.get(), data, tmp);
  if (st.ok() && ::fchmod(fd.get(), mode) != 0) st = sys_error("chmod " + quoted(tmp));
  if (st.ok() && sync && ::fsync(fd.get()) != 0) {
    st = sys_error("fsync " + quoted(tmp));
  }
  fd.reset();
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    st = sys_error("rename " + quoted(tmp) + " to " + quoted(path));
  if (!st.ok()) ::unlink(tmp.c_str());
  return st;
}

}  // namespace

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  return replace_file(path, data, mode, true);
}

Status write_scratch_file(const std::string& path, std::string_view data, mode_t mode) {
  return replace_file(path, data, mode, false);
}

Status write_file(const std::string& path, std::string_view data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return sys_error("open " + quoted(path));
  return write_all(fd.get(), data, path);
}

Status make_dirs(const std::string& path, mode_t mode) {
  if (path.empty()) return Error(ErrorCode::kInvalidArgument, "mkdir: empty path");
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string part = path.substr(0, pos);
    if (part.empty()) continue;
    if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST)
      return sys_error("mkdir " + quoted(part));
  }
  if (!is_directory(path))
    return Error(ErrorCode::kAlreadyExists, "mkdir " + quoted(path) + ": not a directory");
  return ok_status();
}

Status remove_all(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return ok_status();
    return sys_error("stat " + quoted(path));
  }
  return remove_tree_at(AT_FDCWD, path.c_str(), st.st_dev, path);
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::vector<std::string>> list_dir(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return sys_error("opendir " + quoted(path));
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::string join_path(std::string_view a, std::string_view b) {
  while (a.size() > 1 && a.back() == '/') a.remove_suffix(1);
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  std::string out(a);
  if (b.empty()) return out;
  if (out.empty() || out.back() != '/') out.push_back('/');
  out.append(b);
  return out;
}

}  // namespace gantry
