#include "agent/cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>

#include "agent/tar_archive.h"
#include "common/digest.h"
#include "common/file.h"
#include "common/sha1.h"
#include "common/strings.h"
#include "common/subprocess.h"
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

Result<UniqueFd> lock_file(const std::string& path, int op) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) return sys_error("lock cache " + q(path));
  while (::flock(fd.get(), op) != 0) {
    if (errno != EINTR) return sys_error("lock cache " + q(path));
  }
  return fd;
}

}  // namespace

std::optional<std::string> last_commit_for_path(const std::string& dir,
                                                const std::string& revision,
                                                const std::string& file) {
  // safe.directory: the work tree may belong to another user than the one running the job.
  std::vector<std::string> argv = {"git", "-c", "safe.directory=*", "-C", dir, "log", "-1",
                                   "--format=%H", revision.empty() ? "HEAD" : revision, "--",
                                   file};
  SubprocessOptions o;
  o.timeout = std::chrono::seconds(60);
  auto r = run_subprocess(argv, o);
  if (!r.ok() || r->exit_code != 0) return std::nullopt;
  std::string id(trim(r->out));
  if (id.size() < 40 || id.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return std::nullopt;  // empty: no commit touched it
  }
  return id;
}

// Gitlab::Ci::Pipeline::Seed::Build::Cache#files_digest: SHA1 of the sorted, unique commit ids
// joined by '-', "default" when there are none.
std::string key_files_digest(const std::vector<std::optional<std::string>>& commits) {
  std::set<std::string> ids;
  for (const auto& c : commits) {
    if (c && !c->empty()) ids.insert(*c);
  }
  if (ids.empty()) return "default";
  std::string joined;
  for (const auto& id : ids) joined += (joined.empty() ? "" : "-") + id;
  return sha1_hex(joined);
}

Result<std::string> cache_key(const schema::Cache& cache, const schema::VariableSet& vars,
                              const std::string& project_dir, const std::string& revision) {
  std::string key;
  if (!cache.key_files.empty()) {
    std::vector<std::optional<std::string>> commits;
    for (const auto& f : cache.key_files) {
      commits.push_back(last_commit_for_path(project_dir, revision, f));
    }
    key = key_files_digest(commits);
    if (cache.key_prefix) {
      std::string prefix(trim(schema::expand_for_display(*cache.key_prefix, vars)));
      if (!prefix.empty()) key = prefix + "-" + key;
    }
  } else if (cache.key) {
    key = std::string(trim(schema::expand_for_display(*cache.key, vars)));
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
  GANTRY_ASSIGN_OR_RETURN(UniqueFd lock,
                          lock_file(join_path(dir_, escape_key(key) + ".lock"), LOCK_SH));
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
  std::string tmp =
      archive + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
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
