#include "agent/cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>

#include "agent/tar_archive.h"
#include "common/digest.h"
#include "common/file.h"
#include "common/unique_fd.h"

namespace gantry::agent {

namespace {

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

// Keys become file names: anything outside [A-Za-z0-9._-] is %XX-escaped.
std::string escape_key(std::string_view key) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\n");
  return s.substr(b, e - b + 1);
}

Result<UniqueFd> lock_file(const std::string& path, int op) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) return sys_error("lock cache " + q(path));
  while (::flock(fd.get(), op) != 0) {
    if (errno != EINTR) return sys_error("lock cache " + q(path));
  }
  return fd;
}

}  // namespace

Result<std::string> cache_key(const schema::Cache& cache, const schema::VariableSet& vars,
                              const std::string& project_dir) {
  std::string key;
  if (!cache.key_files.empty()) {
    Sha256 h;
    bool any = false;
    for (const auto& f : cache.key_files) {
      std::string path = join_path(project_dir, f);
      if (!path_exists(path)) continue;
      GANTRY_ASSIGN_OR_RETURN(std::string content, read_file(path));
      h.update(f);
      h.update(std::string_view("\0", 1));
      h.update(sha256_hex(content));
      any = true;
    }
    key = any ? h.finish_hex() : "default";
    if (cache.key_prefix) {
      std::string prefix = trim(schema::expand_for_display(*cache.key_prefix, vars));
      if (!prefix.empty()) key = prefix + "-" + key;
    }
  } else if (cache.key) {
    key = trim(schema::expand_for_display(*cache.key, vars));
    if (key.empty()) key = "default";
  } else {
    key = "default";
  }
  if (key.find('/') != std::string::npos || key.find("%2F") != std::string::npos ||
      key.find("%2f") != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "cache key " + q(key) + ": contains '/'");
  }
  if (key.find_first_not_of('.') == std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "cache key " + q(key) + ": only dots");
  }
  return key;
}

bool cache_saved(schema::When when, bool job_succeeded) {
  switch (when) {
    case schema::When::kAlways: return true;
    case schema::When::kOnFailure: return !job_succeeded;
    default: return job_succeeded;
  }
}

bool cache_pulls(const schema::Cache& cache) { return cache.policy != "push"; }
bool cache_pushes(const schema::Cache& cache) { return cache.policy != "pull"; }

CacheStore::CacheStore(std::string cache_dir, std::string project)
    : dir_(join_path(cache_dir, escape_key(project.empty() ? "project" : project))) {}

std::string CacheStore::archive_path(const std::string& key) const {
  return join_path(dir_, escape_key(key) + ".tar");
}

Result<bool> CacheStore::restore(const std::string& key, const std::string& project_dir) const {
  std::string archive = archive_path(key);
  if (!path_exists(archive)) return false;
  GANTRY_ASSIGN_OR_RETURN(UniqueFd lock, lock_file(join_path(dir_, escape_key(key) + ".lock"), LOCK_SH));
  if (!path_exists(archive)) return false;
  auto r = extract_tar(archive, project_dir);
  if (!r.ok()) return std::move(r).error().with_context("restore cache " + q(key));
  return true;
}

Status CacheStore::save(const std::string& key, const std::string& project_dir,
                        const std::vector<std::string>& paths) const {
  GANTRY_TRY(make_dirs(dir_));
  static std::atomic<unsigned> counter{0};
  std::string archive = archive_path(key);
  std::string tmp = archive + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  auto made = create_tar(project_dir, paths, tmp);
  if (!made.ok()) {
    ::unlink(tmp.c_str());
    return std::move(made).error().with_context("save cache " + q(key));
  }
  auto lock = lock_file(join_path(dir_, escape_key(key) + ".lock"), LOCK_EX);
  if (!lock.ok()) {
    ::unlink(tmp.c_str());
    return std::move(lock).error();
  }
  if (::rename(tmp.c_str(), archive.c_str()) != 0) {
    Error e = sys_error("save cache " + q(key) + ": rename to " + q(archive));
    ::unlink(tmp.c_str());
    return e;
  }
  return ok_status();
}

}  // namespace gantry::agent
