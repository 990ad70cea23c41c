// Layer extraction. LayerStream decompresses and hashes (the diff id) on its own thread; the
// tar is parsed by libarchive from its blocks here, so inflating overlaps with creating files
// and the uncompressed layer is never held in memory nor on disk.
//
// Every entry is created relative to a directory fd: the parent is resolved with
// openat2(RESOLVE_IN_ROOT), which treats the layer directory as "/" for "..", absolute
// symlinks and absolute paths, so nothing resolves outside it; the final component is created
// with O_EXCL/O_NOFOLLOW or *at calls that never follow it. The usual entry costs a create,
// the data, and its times: owner and mode are set only where the new inode's differ.
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

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "common/file.h"
#include "common/unique_fd.h"
#include "runtime/image/layer_stream.h"

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

// The mode a new inode gets from a requested mode: the umask applies, read once per unpack
// from /proc (umask(2) cannot be read without setting it, which would race other threads).
// -1 when unknown: then every mode is set explicitly.
int current_umask() {
  auto status = read_file("/proc/self/status");
  if (!status.ok()) return -1;
  size_t at = status->find("\nUmask:");
  if (at == std::string::npos) return -1;
  return static_cast<int>(std::strtol(status->c_str() + at + 7, nullptr, 8));
}

struct DeferredDir {
  std::string path;  // relative, "" for the root
  mode_t mode;
  bool chmod;  // the mode it was created with is not `mode`
  struct timespec times[2];
};

// What a newly made inode already has, so that equal values are not set again.
struct Made {
  uid_t uid;
  gid_t gid;
  mode_t mode;  // permission bits incl. set-id and sticky
};

class Extractor {
 public:
  Extractor(UniqueFd root, const UnpackOptions& opts)
      : root_(std::move(root)), opts_(opts), umask_(current_umask()) {}

  Status entry(archive* ar, archive_entry* e, UnpackStats& stats);
  Status finish();

 private:
  // The directory fd of comps[0..n), creating missing directories (0755, root-owned); also
  // what owner a new entry in it gets (a set-gid directory hands down its group).
  Result<int> parent(const std::vector<std::string>& comps, size_t n, const std::string& shown);
  Status write_data(archive* ar, int fd, archive_entry* e, const std::string& shown,
                    UnpackStats& stats);
  // Owner, then mode (chown clears set-id bits), then xattrs (chown clears file capabilities),
  // then times, each only when `made` (the new inode's values; null for an existing one)
  // differs. Symlinks get no mode; directories get mode and times in finish().
  enum class Kind { kFile, kDir, kLink, kNode };
  Status set_meta(int dirfd, const std::string& name, int fd, archive_entry* e,
                  const std::string& shown, Kind kind, const Made* made);
  // What an inode made now in the current parent with `requested` permission bits has.
  Made made(mode_t requested, bool is_dir) const {
    mode_t mode = requested;
    if (umask_ >= 0) mode &= ~static_cast<mode_t>(umask_);
    if (is_dir && parent_setgid_) mode |= S_ISGID;
    return Made{euid_, parent_setgid_ ? parent_gid_ : egid_, mode};
  }
  bool mode_known() const { return umask_ >= 0; }
  // Forgets the cached parent if it is `removed` or below it (it may now resolve elsewhere).
  void forget_under(const std::string& removed) {
    if (cached_valid_ && (cached_ == removed || cached_.starts_with(removed + "/"))) invalidate();
  }
  void invalidate() {
    cached_.clear();
    cached_fd_.reset();
    cached_valid_ = false;
  }
  Status note_parent(int fd);

  UniqueFd root_;
  UnpackOptions opts_;
  int umask_;
  uid_t euid_ = ::geteuid();
  gid_t egid_ = ::getegid();
  std::string cached_;
  UniqueFd cached_fd_;
  bool cached_valid_ = false;
  gid_t cached_gid_ = 0;
  bool cached_setgid_ = false;
  gid_t parent_gid_ = 0;  // of the parent returned last
  bool parent_setgid_ = false;
  std::vector<DeferredDir> dirs_;
};

Status Extractor::note_parent(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return sys_error("stat parent directory");
  parent_gid_ = st.st_gid;
  parent_setgid_ = (st.st_mode & S_ISGID) != 0;
  return ok_status();
}

Result<int> Extractor::parent(const std::vector<std::string>& comps, size_t n,
                              const std::string& shown) {
  if (n == 0) {
    GANTRY_TRY(note_parent(root_.get()));
    return root_.get();
  }
  std::string path = join(comps, n);
  if (cached_valid_ && cached_ == path) {
    parent_gid_ = cached_gid_;
    parent_setgid_ = cached_setgid_;
    return cached_fd_.get();
  }
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
  GANTRY_TRY(note_parent(fd.get()));
  cached_ = path;
  cached_fd_ = std::move(fd);
  cached_valid_ = true;
  cached_gid_ = parent_gid_;
  cached_setgid_ = parent_setgid_;
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

Status Extractor::set_meta(int dirfd, const std::string& name, int fd, archive_entry* e,
                           const std::string& shown, Kind kind, const Made* made) {
  uid_t uid = static_cast<uid_t>(archive_entry_uid(e));
  gid_t gid = static_cast<gid_t>(archive_entry_gid(e));
  if (opts_.privileged && (made == nullptr || made->uid != uid || made->gid != gid)) {
    int r = fd >= 0 ? ::fchown(fd, uid, gid)
                    : ::fchownat(dirfd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
    if (r != 0) return sys_error("layer entry " + q(shown) + ": chown");
  }
  if (kind == Kind::kFile || kind == Kind::kNode) {
    mode_t mode = archive_entry_perm(e);
    if (made == nullptr || !mode_known() || made->mode != mode) {
      int r = fd >= 0 ? ::fchmod(fd, mode) : ::fchmodat(dirfd, name.c_str(), mode, 0);
      if (r != 0) return sys_error("layer entry " + q(shown) + ": chmod");
    }
  }
  archive_entry_xattr_reset(e);
  const char* xname;
  const void* value;
  size_t vsize;
  std::string proc_path;
  UniqueFd dir_fd;
  while (archive_entry_xattr_next(e, &xname, &value, &vsize) == ARCHIVE_OK) {
    // A layer must not steer overlayfs (redirects, metacopy, its own opaque markers).
    if (std::strncmp(xname, "trusted.overlay.", 16) == 0) continue;
    if (!opts_.privileged && std::strncmp(xname, "user.", 5) != 0) continue;
    if (fd < 0 && kind == Kind::kDir && !dir_fd) {
      dir_fd.reset(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!dir_fd) return sys_error("layer entry " + q(shown) + ": open");
    }
    int xfd = fd >= 0 ? fd : dir_fd.get();
    int r;
    if (xfd >= 0) {
      r = ::fsetxattr(xfd, xname, value, vsize, 0);
    } else {
      proc_path = "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
      r = ::lsetxattr(proc_path.c_str(), xname, value, vsize, 0);
    }
    if (r != 0 && errno != ENOTSUP && !(kind == Kind::kLink && errno == EPERM))
      return sys_error("layer entry " + q(shown) + ": set xattr " + q(xname));
  }
  if (kind == Kind::kDir) return ok_status();  // times in finish(): entries change them
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
      return Error(ErrorCode::kInvalidArgument,
                   "layer entry " + q(shown) + ": root is not a directory");
    GANTRY_TRY(set_meta(root_.get(), ".", -1, e, shown, Kind::kDir, nullptr));
    DeferredDir d{"", archive_entry_perm(e), true, {}};
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

  // Every create below fails with EEXIST when an earlier entry (or a parent made for one)
  // has the name; then it is removed (never followed) and the create is tried once more.
  // This costs nothing in the usual layer, where each name comes once.
  auto replace = [&]() -> Status {
    forget_under(join(comps, comps.size()));
    return remove_at(dirfd, name, shown);
  };

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
    int r = ::linkat(tdir.get(), tcomps->back().c_str(), dirfd, name.c_str(), 0);
    if (r != 0 && errno == EEXIST) {
      GANTRY_TRY(replace());
      r = ::linkat(tdir.get(), tcomps->back().c_str(), dirfd, name.c_str(), 0);
      if (r != 0 && errno == ENOENT)  // the entry replaced was its own target
        return Error(ErrorCode::kInvalidArgument,
                     "layer entry " + q(shown) + ": hardlink target " + q(link_shown) +
                         " is not in this layer");
    }
    if (r != 0) return sys_error("layer entry " + q(shown) + ": hardlink to " + q(link_shown));
    return ok_status();
  }

  switch (type) {
    case AE_IFDIR: {
      mode_t perm = archive_entry_perm(e);
      // Owner-writable while entries go in (a rootless unpack needs that); final mode at the end.
      mode_t create_mode = (perm & 0777) | 0700;
      Made m = made(create_mode, true);
      const Made* mp = &m;
      if (::mkdirat(dirfd, name.c_str(), create_mode) != 0) {
        if (errno != EEXIST) return sys_error("layer entry " + q(shown) + ": mkdir");
        struct stat st;
        if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
          mp = nullptr;  // an existing directory is kept, its metadata set anew
        } else {
          GANTRY_TRY(replace());
          if (::mkdirat(dirfd, name.c_str(), create_mode) != 0)
            return sys_error("layer entry " + q(shown) + ": mkdir");
        }
      }
      // Its owner or mode may decide what entries below it get.
      forget_under(join(comps, comps.size()));
      GANTRY_TRY(set_meta(dirfd, name, -1, e, shown, Kind::kDir, mp));
      DeferredDir d{join(comps, comps.size()), perm,
                    mp == nullptr || !mode_known() || mp->mode != perm, {}};
      d.times[0] = d.times[1] = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
      dirs_.push_back(d);
      return ok_status();
    }
    case AE_IFREG: {
      mode_t perm = archive_entry_perm(e);
      constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
      UniqueFd fd(::openat(dirfd, name.c_str(), kFlags, perm & 0777));
      if (!fd && errno == EEXIST) {
        GANTRY_TRY(replace());
        fd.reset(::openat(dirfd, name.c_str(), kFlags, perm & 0777));
      }
      if (!fd) return sys_error("layer entry " + q(shown) + ": create");
      Made m = made(perm & 0777, false);
      GANTRY_TRY(write_data(ar, fd.get(), e, shown, stats));
      return set_meta(dirfd, name, fd.get(), e, shown, Kind::kFile, &m);
    }
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(e);
      if (target == nullptr)
        return Error(ErrorCode::kInvalidArgument,
                     "layer entry " + q(shown) + ": symlink without a target");
      int r = ::symlinkat(target, dirfd, name.c_str());
      if (r != 0 && errno == EEXIST) {
        GANTRY_TRY(replace());
        r = ::symlinkat(target, dirfd, name.c_str());
      }
      if (r != 0) return sys_error("layer entry " + q(shown) + ": symlink");
      Made m = made(0777, false);
      return set_meta(dirfd, name, -1, e, shown, Kind::kLink, &m);
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
      if (type != AE_IFIFO && !opts_.privileged) return ok_status();  // rootless: no devices
      mode_t kind = type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK : S_IFIFO;
      int r = ::mknodat(dirfd, name.c_str(), kind | 0600, archive_entry_rdev(e));
      if (r != 0 && errno == EEXIST) {
        GANTRY_TRY(replace());
        r = ::mknodat(dirfd, name.c_str(), kind | 0600, archive_entry_rdev(e));
      }
      if (r != 0) return sys_error("layer entry " + q(shown) + ": mknod");
      Made m = made(0600, false);
      return set_meta(dirfd, name, -1, e, shown, Kind::kNode, &m);
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
  // In layer order, so a directory listed twice ends with its last entry's mode and times
  // (setting a directory's times or mode does not touch its parent's). A path that no longer
  // opens as a directory inside the root was replaced by a later entry, and is skipped.
  for (auto it = dirs_.begin(); it != dirs_.end(); ++it) {
    UniqueFd fd(it->path.empty()
                    ? ::openat(root_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                    : sys_openat2(root_.get(), it->path,
                                  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, kResolve));
    if (!fd) continue;
    if (it->chmod && ::fchmod(fd.get(), it->mode) != 0) return sys_error("chmod " + q(it->path));
    if (::futimens(fd.get(), it->times) != 0) return sys_error("set times " + q(it->path));
  }
  return ok_status();
}

la_ssize_t read_stream(archive* a, void* opaque, const void** buf) {
  auto* stream = static_cast<LayerStream*>(opaque);
  auto block = stream->next();
  if (!block.ok()) {
    archive_set_error(a, EIO, "%s", block.error().message().c_str());
    return -1;
  }
  *buf = block->data();
  return static_cast<la_ssize_t>(block->size());
}

}  // namespace

Result<UnpackStats> unpack_layer_stream(const ChunkReader& read, const std::string& dir,
                                        const UnpackOptions& options) {
  UniqueFd root(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys_error("open layer directory " + q(dir));

  LayerStream stream(read);
  // A tar error caused by the stream failing underneath is reported as the stream's error.
  auto fail = [&](Error e) -> Error {
    if (auto cause = stream.stop()) return std::move(*cause).with_context("layer");
    return e;
  };
  ArchivePtr tar(archive_read_new());
  archive_read_support_format_tar(tar.get());
  archive_read_support_format_gnutar(tar.get());
  if (archive_read_open(tar.get(), &stream, nullptr, read_stream, nullptr) != ARCHIVE_OK)
    return fail(Error(ErrorCode::kInvalidArgument, "layer: " + archive_message(tar.get())));

  UnpackStats stats;
  Extractor ex(std::move(root), options);
  while (true) {
    archive_entry* e;
    int r = archive_read_next_header(tar.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      return fail(Error(ErrorCode::kInvalidArgument,
                        "layer: read tar: " + archive_message(tar.get())));
    Status st = ex.entry(tar.get(), e, stats);
    if (!st.ok()) return fail(std::move(st).error());
  }
  GANTRY_TRY(ex.finish());
  // The diff id covers the whole uncompressed stream, including padding after the tar's end.
  for (;;) {
    auto block = stream.next();
    if (!block.ok()) return std::move(block).error().with_context("layer");
    if (block->empty()) break;
  }
  stats.diff_id = stream.diff_id();
  return stats;
}

Result<UnpackStats> unpack_layer(int layer_fd, const std::string& dir,
                                 const UnpackOptions& options) {
  std::vector<char> buf(kReadBlock);
  ChunkReader read = [&]() -> Result<std::string_view> {
    for (;;) {
      ssize_t n = ::read(layer_fd, buf.data(), buf.size());
      if (n >= 0) return std::string_view(buf.data(), static_cast<size_t>(n));
      if (errno != EINTR) return sys_error("read layer");
    }
  };
  return unpack_layer_stream(read, dir, options);
}

}  // namespace gantry::runtime::image
