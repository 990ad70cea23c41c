#include "agent/artifact_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>

#include "common/file.h"
#include "common/unique_fd.h"
#include "pipeline-schema/variables.h"

namespace gantry::agent {

namespace {

std::string in_quotes(std::string_view p) { return "'" + std::string(p) + "'"; }

}  // namespace

Status copy_file_atomic(const std::string& src, const std::string& dest) {
  UniqueFd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return sys_error("copy " + in_quotes(src) + ": open");
  static std::atomic<unsigned> counter{0};
  std::string tmp = dest + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!out) return sys_error("copy to " + in_quotes(dest) + ": create " + in_quotes(tmp));
  std::array<char, 1 << 16> buf;
  for (;;) {
    ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      Error e = sys_error("copy " + in_quotes(src) + ": read");
      ::unlink(tmp.c_str());
      return e;
    }
    if (n == 0) break;
    const char* p = buf.data();
    while (n > 0) {
      ssize_t w = ::write(out.get(), p, static_cast<size_t>(n));
      if (w < 0) {
        if (errno == EINTR) continue;
        Error e = sys_error("copy to " + in_quotes(dest) + ": write");
        ::unlink(tmp.c_str());
        return e;
      }
      p += w;
      n -= w;
    }
  }
  if (::fsync(out.get()) != 0 || ::rename(tmp.c_str(), dest.c_str()) != 0) {
    Error e = sys_error("copy to " + in_quotes(dest) + ": commit");
    ::unlink(tmp.c_str());
    return e;
  }
  return ok_status();
}

Result<std::string> DirectoryArtifactStore::put(const schema::JobSpec& spec,
                                                const std::string& archive_path) {
  GANTRY_TRY(make_dirs(dir_));
  std::string slug = schema::slugify(spec.job.name);
  if (slug.empty()) slug = "job";
  std::string name = slug + "-" + std::to_string(spec.job_id) + ".tar";
  Status st = copy_file_atomic(archive_path, join_path(dir_, name));
  if (!st.ok())
    return std::move(st).error().with_context("store artifacts of '" + spec.job.name + "'");
  return name;
}

Status DirectoryArtifactStore::get(const schema::DependencyArtifacts& dep,
                                   const std::string& dest_path) {
  if (dep.locator.empty() || dep.locator.find('/') != std::string::npos || dep.locator == "." ||
      dep.locator == "..") {
    return Error(ErrorCode::kInvalidArgument,
                 "artifacts of '" + dep.job + "': bad locator " + in_quotes(dep.locator));
  }
  std::string path = join_path(dir_, dep.locator);
  if (!path_exists(path)) {
    return Error(ErrorCode::kNotFound,
                 "artifacts of '" + dep.job + "': " + in_quotes(path) + " does not exist");
  }
  Status st = copy_file_atomic(path, dest_path);
  if (!st.ok()) return std::move(st).error().with_context("artifacts of '" + dep.job + "'");
  return ok_status();
}

}  // namespace gantry::agent
