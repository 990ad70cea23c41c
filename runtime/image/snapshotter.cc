#include "runtime/image/snapshotter.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/digest.h"
#include "common/file.h"
#include "common/logging.h"
#include "common/unique_fd.h"
#include "runtime/paths.h"

namespace gantry::runtime::image {

namespace {

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

Result<std::string> chain_hex(const std::string& chain_id) {
  auto d = parse_digest(chain_id);
  if (!d.ok()) return std::move(d).error().with_context("snapshot");
  return d->hex;
}

Result<UniqueFd> lock_path(const std::string& path, int op) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return sys_error("open lock " + q(path));
  while (::flock(fd.get(), op) != 0) {
    if (errno == EWOULDBLOCK && (op & LOCK_NB)) return Error(ErrorCode::kUnavailable, "busy");
    if (errno != EINTR) return sys_error("lock " + q(path));
  }
  return fd;
}

}  // namespace

Result<std::shared_ptr<Snapshotter>> Snapshotter::open(const std::string& root,
                                                       UnpackOptions options) {
  std::string dir = paths::snapshots_dir(root);
  auto st = make_dirs(join_path(dir, ".locks"), 0700);
  if (!st.ok()) return std::move(st).error().with_context("open snapshots");
  ::chmod(dir.c_str(), 0711);  // overlay lowerdirs must be reachable by the container's users
  // Temp dirs whose lock is free were left by a crash: nobody will finish them.
  GANTRY_ASSIGN_OR_RETURN(auto names, list_dir(dir));
  for (const auto& n : names) {
    if (!n.starts_with(".tmp-")) continue;
    std::string hex = n.substr(5, 64);
    auto lock = lock_path(join_path(dir, ".locks/" + hex), LOCK_EX | LOCK_NB);
    if (!lock.ok()) continue;
    GANTRY_TRY(remove_all(join_path(dir, n)));
  }
  return std::shared_ptr<Snapshotter>(new Snapshotter(dir, options));
}

std::string Snapshotter::path(const std::string& chain_id) const {
  auto hex = chain_hex(chain_id);
  return join_path(dir_, hex.ok() ? *hex : "invalid");
}

bool Snapshotter::has(const std::string& chain_id) const {
  if (!chain_hex(chain_id).ok()) return false;
  return is_directory(path(chain_id));
}

Result<std::string> Snapshotter::prepare(const std::string& chain_id, const std::string& diff_id,
                                         const std::string& layer_path) {
  GANTRY_ASSIGN_OR_RETURN(std::string hex, chain_hex(chain_id));
  std::string final_dir = join_path(dir_, hex);
  if (is_directory(final_dir)) return final_dir;
  UniqueFd layer(::open(layer_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!layer) return sys_error("open layer " + q(layer_path));
  std::vector<char> buf(1 << 20);
  ChunkReader read = [&]() -> Result<std::string_view> {
    for (;;) {
      ssize_t n = ::read(layer.get(), buf.data(), buf.size());
      if (n >= 0) return std::string_view(buf.data(), static_cast<size_t>(n));
      if (errno != EINTR) return sys_error("read layer " + q(layer_path));
    }
  };
  auto dir = prepare_from(chain_id, diff_id, read, true);
  if (!dir.ok()) {
    return std::move(dir).error().with_context("unpack layer " + q(layer_path) +
                                               " as snapshot " + q(chain_id));
  }
  return dir;
}

Result<std::string> Snapshotter::prepare_from(const std::string& chain_id,
                                              const std::string& diff_id,
                                              const ChunkReader& read, bool wait) {
  GANTRY_ASSIGN_OR_RETURN(std::string hex, chain_hex(chain_id));
  std::string final_dir = join_path(dir_, hex);
  if (is_directory(final_dir)) return final_dir;
  GANTRY_ASSIGN_OR_RETURN(UniqueFd lock, lock_path(join_path(dir_, ".locks/" + hex),
                                                   wait ? LOCK_EX : LOCK_EX | LOCK_NB));
  if (is_directory(final_dir)) return final_dir;

  std::string temp = join_path(dir_, ".tmp-" + hex + "-XXXXXX");
  if (::mkdtemp(temp.data()) == nullptr) return sys_error("create " + q(temp));
  ::chmod(temp.c_str(), 0755);
  auto stats = unpack_layer_stream(read, temp, options_);
  if (stats.ok() && stats->diff_id != diff_id) {
    stats = Error(ErrorCode::kInvalidArgument,
                  "diff id mismatch: got " + q(stats->diff_id) + ", expected " + q(diff_id));
  }
  if (!stats.ok()) {
    (void)remove_all(temp);
    return std::move(stats).error();
  }
  if (::rename(temp.c_str(), final_dir.c_str()) != 0) {
    if ((errno == EEXIST || errno == ENOTEMPTY) && is_directory(final_dir)) {
      (void)remove_all(temp);  // another process made it meanwhile; the content is the same
      return final_dir;
    }
    Error e = sys_error("rename " + q(temp) + " to " + q(final_dir));
    (void)remove_all(temp);
    return e;
  }
  logger("image")->debug("layer unpacked chain_id={} entries={} bytes={}", chain_id,
                         stats->entries, stats->bytes);
  return final_dir;
}

Result<std::vector<std::string>> Snapshotter::lower_dirs(
    const std::vector<std::string>& chain_ids) const {
  std::vector<std::string> out;
  for (const auto& c : chain_ids) {
    if (!has(c))
      return Error(ErrorCode::kNotFound,
                   "snapshot " + q(c) + " is missing (pull or load the image again)");
    out.push_back(path(c));
  }
  return out;
}

Status Snapshotter::remove(const std::string& chain_id) {
  GANTRY_ASSIGN_OR_RETURN(std::string hex, chain_hex(chain_id));
  std::string final_dir = join_path(dir_, hex);
  GANTRY_ASSIGN_OR_RETURN(UniqueFd lock, lock_path(join_path(dir_, ".locks/" + hex), LOCK_EX));
  if (!is_directory(final_dir))
    return Error(ErrorCode::kNotFound, "snapshot " + q(chain_id) + " not found");
  // Renamed first so a half-removed snapshot never looks whole.
  std::string doomed = join_path(dir_, ".tmp-" + hex + "-removing");
  if (::rename(final_dir.c_str(), doomed.c_str()) != 0)
    return sys_error("rename " + q(final_dir) + " to " + q(doomed));
  return remove_all(doomed);
}

Result<std::vector<std::string>> Snapshotter::list() const {
  GANTRY_ASSIGN_OR_RETURN(auto names, list_dir(dir_));
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (n.starts_with(".")) continue;
    if (parse_digest("sha256:" + n).ok()) out.push_back("sha256:" + n);
  }
  return out;
}

}  // namespace gantry::runtime::image
