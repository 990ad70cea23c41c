// Layer extraction. The stream is decompressed by one libarchive reader (format "raw", every
// filter) whose output is hashed for the diff id and fed to a second reader that parses the
// tar, so the uncompressed layer is never held in memory nor on disk.
//
// Every entry is created relative to a directory fd: the parent is resolved with
// openat2(RESOLVE_IN_ROOT), which treats the layer directory as "/" for "..", absolute
// symlinks and absolute paths, so nothing resolves outside it; the final component is created
// with O_EXCL/O_NOFOLLOW or *at calls that never follow it.
#include "runtime/image/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "common/digest.h"
#include "common/file.h"
#include "common/unique_fd.h"

namespace gantry::runtime::image {

namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr size_t kReadBlock = 1 << 20;

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

std::string archive_message(archive* a) {
  const char* m = archive_error_string(a);
  return m ? m : "unknown archive error";
}

int sys_openat2(int dirfd, const std::string& path, uint64_t flags, uint64_t resolve) {
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = flags;
  how.resolve = resolve;
  int fd;
  do {
    fd = static_cast<int>(::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how));
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return fd;
}

constexpr uint64_t kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

// Splits a tar path into clean components. ".." may only cancel a component before it;
// one that climbs above the root is refused (Docker does the same).
Result<std::vector<std::string>> clean_path(std::string_view raw, const std::string& shown) {
  std::vector<std::string> comps;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t slash = raw.find('/', start);
    std::string_view c =
        raw.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (c == "..") {
      if (comps.empty())
        return Error(ErrorCode::kInvalidArgument,
                     "layer entry " + q(shown) + ": path leaves the layer root");
      comps.pop_back();
    } else if (!c.empty() && c != ".") {
      comps.emplace_back(c);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return comps;
}

std::string join(const std::vector<std::string>& comps, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += '/';
    s += comps[i];
  }
  return s;
}

// Removes `name` in `dirfd` (a whole tree for a directory), never following symlinks.
Status remove_at(int dirfd, const std::string& name, const std::string& shown) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return ok_status();
  if (errno != EISDIR && errno != EPERM) return sys_error("remove " + q(shown));
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_error("open " + q(shown));
  GANTRY_ASSIGN_OR_RETURN(auto names, list_dir("/proc/self/fd/" + std::to_string(fd.get())));
  for (const auto& n : names) GANTRY_TRY(remove_at(fd.get(), n, shown + "/" + n));
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    return sys_error("remove " + q(shown));
  return ok_status();
}

struct DeferredDir {
  std::string path;  // relative, "" for the root
  mode_t mode;
  struct timespec times[2];
};

class Extractor {
 public:
  Extractor(UniqueFd root, const UnpackOptions& opts) : root_(std::move(root)), opts_(opts) {}

  Status entry(archive* ar, archive_entry* e, UnpackStats& stats);
  Status finish();

 private:
  // The directory fd of comps[0..n), creating missing directories (0755, root-owned).
  Result<int> parent(const std::vector<std::string>& comps, size_t n, const std::string& shown);
  Status write_data(archive* ar, int fd, archive_entry* e, const std::string& shown,
                    UnpackStats& stats);
  Status set_meta(int dirfd, const std::string& name, int fd, archive_entry* e,
                  const std::string& shown, bool is_link);
  // Forgets the cached parent if it is `removed` or below it (it may now resolve elsewhere).
  void forget_under(const std::string& removed) {
    if (cached_valid_ && (cached_ == removed || cached_.starts_with(removed + "/"))) invalidate();
  }
  void invalidate() {
    cached_.clear();
    cached_fd_.reset();
    cached_valid_ = false;
  }

  UniqueFd root_;
  UnpackOptions opts_;
  std::string cached_;
  UniqueFd cached_fd_;
  bool cached_valid_ = false;
  std::vector<DeferredDir> dirs_;
};

Result<int> Extractor::parent(const std::vector<std::string>& comps, size_t n,
                              const std::string& shown) {
  if (n == 0) return root_.get();
  std::string path = join(comps, n);
  if (cached_valid_ && cached_ == path) return cached_fd_.get();
  UniqueFd fd(sys_openat2(root_.get(), path, O_PATH | O_DIRECTORY | O_CLOEXEC, kResolve));
  if (!fd && errno == ENOENT) {
    // Create what is missing, one component at a time, each resolved inside the root.
    UniqueFd cur(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
    for (size_t i = 0; i < n; ++i) {
      std::string prefix = join(comps, i + 1);
      UniqueFd next(sys_openat2(root_.get(), prefix, O_PATH | O_DIRECTORY | O_CLOEXEC, kResolve));
      if (!next && errno == ENOENT) {
        if (::mkdirat(cur.get(), comps[i].c_str(), 0755) != 0) {
          if (errno == EEXIST)
            return Error(ErrorCode::kInvalidArgument,
                         "layer entry " + q(shown) + ": parent " + q(prefix) +
                             " is a symlink to a missing directory");
          return sys_error("layer entry " + q(shown) + ": mkdir " + q(prefix));
        }
        next.reset(::openat(cur.get(), comps[i].c_str(),
                            O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      }
      if (!next) return sys_error("layer entry " + q(shown) + ": open parent " + q(prefix));
      cur = std::move(next);
    }
    fd = std::move(cur);
  }
  if (!fd) {
    if (errno == ENOTDIR)
      return Error(ErrorCode::kInvalidArgument, "layer entry " + q(shown) + ": parent " +
                                                    q(path) + " is not a directory",
                   ENOTDIR);
    return sys_error("layer entry " + q(shown) + ": open parent " + q(path));
  }
  cached_ = path;
  cached_fd_ = std::move(fd);
  cached_valid_ = true;
  return cached_fd_.get();
}

Status Extractor::write_data(archive* ar, int fd, archive_entry* e, const std::string& shown,
                             UnpackStats& stats) {
  const void* buf;
  size_t size;
  la_int64_t offset;
  int64_t pos = 0;
  while (true) {
    int r = archive_read_data_block(ar, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      return Error(ErrorCode::kInvalidArgument,
                   "layer entry " + q(shown) + ": read data: " + archive_message(ar));
    if (offset != pos) {  // a hole in a sparse file
      if (::lseek(fd, offset, SEEK_SET) < 0) return sys_error("layer entry " + q(shown) + ": seek");
      pos = offset;
    }
    const char* p = static_cast<const char*>(buf);
    while (size > 0) {
      ssize_t n = ::write(fd, p, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys_error("layer entry " + q(shown) + ": write");
      }
      p += n;
      size -= static_cast<size_t>(n);
      pos += n;
      stats.bytes += n;
    }
  }
  if (archive_entry_size_is_set(e) && archive_entry_size(e) > pos) {
    if (::ftruncate(fd, archive_entry_size(e)) != 0)
      return sys_error("layer entry " + q(shown) + ": truncate");
  }
  return ok_status();
}

// Owner, then mode (chown clears set-id bits), then xattrs (chown clears file capabilities),
// then times. For a symlink only owner, xattrs and times, through its parent.
Status Extractor::set_meta(int dirfd, const std::string& name, int fd, archive_entry* e,
                           const std::string& shown, bool is_link) {
  if (opts_.privileged) {
    int r = fd >= 0 ? ::fchown(fd, archive_entry_uid(e), archive_entry_gid(e))
                    : ::fchownat(dirfd, name.c_str(), archive_entry_uid(e), archive_entry_gid(e),
                                 AT_SYMLINK_NOFOLLOW);
    if (r != 0) return sys_error("layer entry " + q(shown) + ": chown");
  }
  if (!is_link) {
    mode_t mode = archive_entry_perm(e);
    int r = fd >= 0 ? ::fchmod(fd, mode) : ::fchmodat(dirfd, name.c_str(), mode, 0);
    if (r != 0) return sys_error("layer entry " + q(shown) + ": chmod");
  }
  archive_entry_xattr_reset(e);
  const char* xname;
  const void* value;
  size_t vsize;
  std::string link_path;
  while (archive_entry_xattr_next(e, &xname, &value, &vsize) == ARCHIVE_OK) {
    // A layer must not steer overlayfs (redirects, metacopy, its own opaque markers).
    if (std::strncmp(xname, "trusted.overlay.", 16) == 0) continue;
    if (!opts_.privileged && std::strncmp(xname, "user.", 5) != 0) continue;
    int r;
    if (fd >= 0) {
      r = ::fsetxattr(fd, xname, value, vsize, 0);
    } else {
      link_path = "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
      r = ::lsetxattr(link_path.c_str(), xname, value, vsize, 0);
    }
    if (r != 0 && errno != ENOTSUP && !(is_link && errno == EPERM))
      return sys_error("layer entry " + q(shown) + ": set xattr " + q(xname));
  }
  struct timespec times[2];
  times[1].tv_sec = archive_entry_mtime(e);
  times[1].tv_nsec = archive_entry_mtime_nsec(e);
  if (archive_entry_atime_is_set(e)) {
    times[0].tv_sec = archive_entry_atime(e);
    times[0].tv_nsec = archive_entry_atime_nsec(e);
  } else {
    times[0] = times[1];
  }
  int r = fd >= 0 ? ::futimens(fd, times)
                  : ::utimensat(dirfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
  if (r != 0) return sys_error("layer entry " + q(shown) + ": set times");
  return ok_status();
}

Status Extractor::entry(archive* ar, archive_entry* e, UnpackStats& stats) {
  const char* raw = archive_entry_pathname(e);
  if (raw == nullptr) return Error(ErrorCode::kInvalidArgument, "layer entry without a path");
  std::string shown = raw;
  GANTRY_ASSIGN_OR_RETURN(auto comps, clean_path(raw, shown));
  ++stats.entries;
  mode_t type = archive_entry_filetype(e);

  if (comps.empty()) {  // "./": the layer root itself
    if (type != AE_IFDIR)
      return Error(ErrorCode::kInvalidArgument, "layer entry " + q(shown) + ": root is not a directory");
    GANTRY_TRY(set_meta(root_.get(), ".", -1, e, shown, false));
    DeferredDir d{"", archive_entry_perm(e), {}};
    d.times[0] = d.times[1] = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    dirs_.push_back(d);
    return ok_status();
  }
  const std::string name = comps.back();
  GANTRY_ASSIGN_OR_RETURN(int dirfd, parent(comps, comps.size() - 1, shown));

  if (std::string_view(name).starts_with(kWhiteoutPrefix)) {
    ++stats.whiteouts;
    if (name == kOpaqueMarker) {
      UniqueFd dir(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!dir) return sys_error("layer entry " + q(shown) + ": open parent");
      const char* attr = opts_.privileged ? "trusted.overlay.opaque" : "user.overlay.opaque";
      if (::fsetxattr(dir.get(), attr, "y", 1, 0) != 0)
        return sys_error("layer entry " + q(shown) + ": set " + attr);
      return ok_status();
    }
    std::string target = name.substr(kWhiteoutPrefix.size());
    if (target.starts_with(kWhiteoutPrefix)) return ok_status();  // aufs bookkeeping (.wh..wh.plnk)
    if (target.empty() || target == "." || target == "..")
      return Error(ErrorCode::kInvalidArgument, "layer entry " + q(shown) + ": bad whiteout name");
    std::string parent_path = join(comps, comps.size() - 1);
    forget_under(parent_path.empty() ? target : parent_path + "/" + target);
    GANTRY_TRY(remove_at(dirfd, target, shown));
    if (::mknodat(dirfd, target.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0)
      return sys_error("layer entry " + q(shown) + ": make whiteout");
    return ok_status();
  }

  struct stat st;
  bool exists = ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  bool keep_dir = exists && S_ISDIR(st.st_mode) && type == AE_IFDIR &&
                  archive_entry_hardlink(e) == nullptr;
  if (exists && !keep_dir) {
    forget_under(join(comps, comps.size()));
    GANTRY_TRY(remove_at(dirfd, name, shown));
  }

  if (const char* link = archive_entry_hardlink(e)) {
    std::string link_shown = link;
    auto tcomps = clean_path(link, link_shown);
    if (!tcomps.ok() || tcomps->empty())
      return Error(ErrorCode::kInvalidArgument,
                   "layer entry " + q(shown) + ": hardlink target " + q(link_shown) +
                       " leaves the layer root");
    std::string tparent = join(*tcomps, tcomps->size() - 1);
    UniqueFd tdir(tparent.empty()
                      ? ::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0)
                      : sys_openat2(root_.get(), tparent, O_PATH | O_DIRECTORY | O_CLOEXEC,
                                    kResolve));
    struct stat tst;
    if (!tdir || ::fstatat(tdir.get(), tcomps->back().c_str(), &tst, AT_SYMLINK_NOFOLLOW) != 0)
      return Error(ErrorCode::kInvalidArgument,
                   "layer entry " + q(shown) + ": hardlink target " + q(link_shown) +
                       " is not in this layer");
    if (::linkat(tdir.get(), tcomps->back().c_str(), dirfd, name.c_str(), 0) != 0)
      return sys_error("layer entry " + q(shown) + ": hardlink to " + q(link_shown));
    return ok_status();
  }

  switch (type) {
    case AE_IFDIR: {
      if (!keep_dir && ::mkdirat(dirfd, name.c_str(), 0700) != 0)
        return sys_error("layer entry " + q(shown) + ": mkdir");
      UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) return sys_error("layer entry " + q(shown) + ": open");
      GANTRY_TRY(set_meta(dirfd, name, fd.get(), e, shown, false));
      // Its mtime is set again at the end: writing entries into it changes it.
      DeferredDir d{join(comps, comps.size()), archive_entry_perm(e), {}};
      d.times[0] = d.times[1] = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
      dirs_.push_back(d);
      return ok_status();
    }
    case AE_IFREG: {
      UniqueFd fd(::openat(dirfd, name.c_str(),
                           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!fd) return sys_error("layer entry " + q(shown) + ": create");
      GANTRY_TRY(write_data(ar, fd.get(), e, shown, stats));
      return set_meta(dirfd, name, fd.get(), e, shown, false);
    }
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(e);
      if (target == nullptr)
        return Error(ErrorCode::kInvalidArgument, "layer entry " + q(shown) + ": symlink without a target");
      if (::symlinkat(target, dirfd, name.c_str()) != 0)
        return sys_error("layer entry " + q(shown) + ": symlink");
      return set_meta(dirfd, name, -1, e, shown, true);
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
      if (type != AE_IFIFO && !opts_.privileged) return ok_status();  // rootless: no devices
      mode_t kind = type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK : S_IFIFO;
      if (::mknodat(dirfd, name.c_str(), kind | 0600, archive_entry_rdev(e)) != 0)
        return sys_error("layer entry " + q(shown) + ": mknod");
      return set_meta(dirfd, name, -1, e, shown, false);
    }
    case AE_IFSOCK:
      return ok_status();  // sockets are not content
    default:
      return Error(ErrorCode::kInvalidArgument,
                   "layer entry " + q(shown) + ": unknown file type " + std::to_string(type));
  }
}

Status Extractor::finish() {
  invalidate();
  // Deepest first does not matter for times, but parents listed later may have been replaced.
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    UniqueFd fd(it->path.empty()
                    ? ::openat(root_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                    : sys_openat2(root_.get(), it->path,
                                  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, kResolve));
    if (!fd) continue;  // replaced by a later entry
    if (::fchmod(fd.get(), it->mode) != 0) return sys_error("chmod " + q(it->path));
    if (::futimens(fd.get(), it->times) != 0) return sys_error("set times " + q(it->path));
  }
  return ok_status();
}

// The outer reader's decompressed output, hashed, as the inner reader's input.
struct Decompressed {
  archive* outer;
  Sha256 hash;
  int64_t total = 0;
};

la_ssize_t read_decompressed(archive* inner, void* opaque, const void** buf) {
  auto* src = static_cast<Decompressed*>(opaque);
  size_t size;
  la_int64_t offset;
  int r = archive_read_data_block(src->outer, buf, &size, &offset);
  if (r == ARCHIVE_EOF) return 0;
  if (r < ARCHIVE_WARN) {
    archive_set_error(inner, archive_errno(src->outer), "decompress: %s",
                      archive_message(src->outer).c_str());
    return -1;
  }
  src->hash.update(*buf, size);
  src->total += static_cast<int64_t>(size);
  return static_cast<la_ssize_t>(size);
}

}  // namespace

Result<UnpackStats> unpack_layer(int layer_fd, const std::string& dir,
                                 const UnpackOptions& options) {
  UniqueFd root(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys_error("open layer directory " + q(dir));

  ArchivePtr outer(archive_read_new());
  archive_read_support_filter_all(outer.get());
  archive_read_support_format_raw(outer.get());
  if (archive_read_open_fd(outer.get(), layer_fd, kReadBlock) != ARCHIVE_OK)
    return Error(ErrorCode::kInvalidArgument, "layer: " + archive_message(outer.get()));
  archive_entry* raw_entry;
  if (archive_read_next_header(outer.get(), &raw_entry) != ARCHIVE_OK)
    return Error(ErrorCode::kInvalidArgument, "layer: " + archive_message(outer.get()));

  Decompressed src{outer.get(), Sha256(), 0};
  ArchivePtr inner(archive_read_new());
  archive_read_support_format_tar(inner.get());
  archive_read_support_format_gnutar(inner.get());
  if (archive_read_open(inner.get(), &src, nullptr, read_decompressed, nullptr) != ARCHIVE_OK)
    return Error(ErrorCode::kInvalidArgument, "layer: " + archive_message(inner.get()));

  UnpackStats stats;
  Extractor ex(std::move(root), options);
  while (true) {
    archive_entry* e;
    int r = archive_read_next_header(inner.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      return Error(ErrorCode::kInvalidArgument, "layer: read tar: " + archive_message(inner.get()));
    GANTRY_TRY(ex.entry(inner.get(), e, stats));
  }
  GANTRY_TRY(ex.finish());
  // The diff id covers the whole uncompressed stream, including padding after the tar's end.
  const void* buf;
  la_ssize_t n;
  while ((n = read_decompressed(inner.get(), &src, &buf)) > 0) {
  }
  if (n < 0) return Error(ErrorCode::kInvalidArgument, "layer: " + archive_message(inner.get()));
  stats.diff_id = "sha256:" + src.hash.finish_hex();
  return stats;
}

}  // namespace gantry::runtime::image
