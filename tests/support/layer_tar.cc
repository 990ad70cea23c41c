#include "tests/support/layer_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdlib>
#include <stdexcept>

#include "common/digest.h"

namespace gantry::testing {

LayerTar& LayerTar::dir(const std::string& path, uint32_t mode, uint32_t uid, uint32_t gid) {
  entries_.push_back({'d', path, "", mode, uid, gid});
  return *this;
}
LayerTar& LayerTar::file(const std::string& path, const std::string& data, uint32_t mode,
                         uint32_t uid, uint32_t gid) {
  entries_.push_back({'f', path, data, mode, uid, gid});
  return *this;
}
LayerTar& LayerTar::symlink(const std::string& path, const std::string& target) {
  entries_.push_back({'l', path, target, 0777});
  return *this;
}
LayerTar& LayerTar::hardlink(const std::string& path, const std::string& target) {
  entries_.push_back({'h', path, target, 0644});
  return *this;
}
LayerTar& LayerTar::device(const std::string& path, char type, uint32_t major, uint32_t minor) {
  Entry e{type, path, "", 0666};
  e.major = major;
  e.minor = minor;
  entries_.push_back(e);
  return *this;
}
LayerTar& LayerTar::fifo(const std::string& path) {
  entries_.push_back({'p', path, "", 0644});
  return *this;
}
LayerTar& LayerTar::whiteout(const std::string& path) {
  auto slash = path.rfind('/');
  std::string p = slash == std::string::npos
                      ? ".wh." + path
                      : path.substr(0, slash + 1) + ".wh." + path.substr(slash + 1);
  return file(p, "", 0644);
}
LayerTar& LayerTar::opaque(const std::string& dir) { return file(dir + "/.wh..wh..opq", ""); }
LayerTar& LayerTar::xattr(const std::string& name, const std::string& value) {
  entries_.back().xattrs[name] = value;
  return *this;
}
LayerTar& LayerTar::mtime(int64_t t) {
  entries_.back().mtime = t;
  return *this;
}

namespace {
la_ssize_t append(archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}
}  // namespace

std::string LayerTar::build(runtime::image::Compression c) const {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (c == runtime::image::Compression::kGzip) archive_write_add_filter_gzip(a);
  if (c == runtime::image::Compression::kZstd) archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  if (archive_write_open(a, &out, nullptr, append, nullptr) != ARCHIVE_OK)
    throw std::runtime_error(archive_error_string(a));
  for (const auto& e : entries_) {
    archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, e.path.c_str());
    archive_entry_set_uid(en, e.uid);
    archive_entry_set_gid(en, e.gid);
    archive_entry_set_mtime(en, e.mtime, 0);
    archive_entry_set_perm(en, e.mode);
    for (const auto& [k, v] : e.xattrs)
      archive_entry_xattr_add_entry(en, k.c_str(), v.data(), v.size());
    switch (e.type) {
      case 'd': archive_entry_set_filetype(en, AE_IFDIR); break;
      case 'f':
        archive_entry_set_filetype(en, AE_IFREG);
        archive_entry_set_size(en, static_cast<la_int64_t>(e.data.size()));
        break;
      case 'l':
        archive_entry_set_filetype(en, AE_IFLNK);
        archive_entry_set_symlink(en, e.data.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(en, AE_IFREG);
        archive_entry_set_hardlink(en, e.data.c_str());
        archive_entry_set_size(en, 0);
        break;
      case 'c':
      case 'b':
        archive_entry_set_filetype(en, e.type == 'c' ? AE_IFCHR : AE_IFBLK);
        archive_entry_set_rdev(en, makedev(e.major, e.minor));
        break;
      case 'p': archive_entry_set_filetype(en, AE_IFIFO); break;
    }
    if (archive_write_header(a, en) != ARCHIVE_OK)
      throw std::runtime_error(archive_error_string(a));
    if (e.type == 'f' && !e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(en);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

std::string LayerTar::diff_id() const {
  return "sha256:" + sha256_hex(build(runtime::image::Compression::kNone));
}

}  // namespace gantry::testing
