#include "agent/tar_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <memory>

#include "common/unique_fd.h"

namespace gantry::agent {

namespace {

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

struct ArchiveCloser {
  void operator()(archive* a) const {
    if (a != nullptr) archive_write_free(a);
  }
};
struct ReaderCloser {
  void operator()(archive* a) const {
    if (a != nullptr) archive_read_free(a);
  }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

std::string archive_message(archive* a) {
  const char* m = archive_error_string(a);
  return m != nullptr ? m : "unknown libarchive error";
}

}  // namespace

Result<TarStats> create_tar(const std::string& root, const std::vector<std::string>& paths,
                            const std::string& out_path) {
  std::unique_ptr<archive, ArchiveCloser> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  if (archive_write_open_filename(a.get(), out_path.c_str()) != ARCHIVE_OK) {
    return Error(ErrorCode::kIo, "create archive " + q(out_path) + ": " + archive_message(a.get()));
  }
  TarStats stats;
  std::array<char, 1 << 16> buf;
  for (const auto& rel : paths) {
    std::string full = root + "/" + rel;
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) return sys_error("archive " + q(full) + ": stat");
    std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), rel.c_str());
    archive_entry_copy_stat(e.get(), &st);
    UniqueFd fd;
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlink(full.c_str(), target.data(), target.size());
      if (n < 0) return sys_error("archive " + q(full) + ": readlink");
      target.resize(static_cast<size_t>(n));
      archive_entry_set_symlink(e.get(), target.c_str());
      archive_entry_set_size(e.get(), 0);
    } else if (S_ISREG(st.st_mode)) {
      fd.reset(::open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
      if (!fd) return sys_error("archive " + q(full) + ": open");
    } else if (!S_ISDIR(st.st_mode)) {
      continue;  // sockets, fifos and devices are not artifacts
    } else {
      archive_entry_set_size(e.get(), 0);
    }
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) {
      return Error(ErrorCode::kIo, "archive " + q(full) + ": " + archive_message(a.get()));
    }
    ++stats.entries;
    if (fd) {
      for (;;) {
        ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0) {
          if (errno == EINTR) continue;
          return sys_error("archive " + q(full) + ": read");
        }
        if (n == 0) break;
        if (archive_write_data(a.get(), buf.data(), static_cast<size_t>(n)) < 0) {
          return Error(ErrorCode::kIo, "archive " + q(full) + ": " + archive_message(a.get()));
        }
        stats.bytes += n;
      }
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return Error(ErrorCode::kIo, "create archive " + q(out_path) + ": " + archive_message(a.get()));
  }
  return stats;
}

Result<TarStats> extract_tar(const std::string& tar_path, const std::string& dest) {
  // SECURE_SYMLINKS refuses any symlink on the way, so the destination's own path must be free
  // of them (TMPDIR may be one).
  char* real = ::realpath(dest.c_str(), nullptr);
  if (real == nullptr) return sys_error("extract " + q(tar_path) + ": resolve " + q(dest));
  std::string root(real);
  ::free(real);
  std::unique_ptr<archive, ReaderCloser> in(archive_read_new());
  archive_read_support_format_tar(in.get());
  archive_read_support_format_gnutar(in.get());
  archive_read_support_filter_all(in.get());
  if (archive_read_open_filename(in.get(), tar_path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return Error(ErrorCode::kIo, "extract " + q(tar_path) + ": " + archive_message(in.get()));
  }
  std::unique_ptr<archive, ArchiveCloser> out(archive_write_disk_new());
  // libarchive's own guards: no `..`, no writing through symlinks. Absolute entry names are
  // refused below (the names handed to libarchive are absolute: `root` + the entry's name).
  int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
              ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_UNLINK;
  archive_write_disk_set_options(out.get(), flags);
  archive_write_disk_set_standard_lookup(out.get());
  TarStats stats;
  archive_entry* e = nullptr;
  for (;;) {
    int r = archive_read_next_header(in.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return Error(ErrorCode::kIo, "extract " + q(tar_path) + ": " + archive_message(in.get()));
    }
    std::string name = archive_entry_pathname(e) != nullptr ? archive_entry_pathname(e) : "";
    if (name.empty() || name[0] == '/') {
      return Error(ErrorCode::kInvalidArgument,
                   "extract " + q(tar_path) + ": entry " + q(name) + ": absolute or empty path");
    }
    archive_entry_set_pathname(e, (root + "/" + name).c_str());
    if (const char* hl = archive_entry_hardlink(e)) {
      std::string target = hl;
      if (target.empty() || target[0] == '/') {
        return Error(ErrorCode::kInvalidArgument,
                     "extract " + q(tar_path) + ": entry " + q(name) + ": absolute hard link");
      }
      archive_entry_set_hardlink(e, (root + "/" + target).c_str());
    }
    r = archive_write_header(out.get(), e);
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return Error(ErrorCode::kInvalidArgument, "extract " + q(tar_path) + ": entry " + q(name) +
                                                    ": " + archive_message(out.get()));
    }
    ++stats.entries;
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    for (;;) {
      r = archive_read_data_block(in.get(), &block, &size, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK) {
        return Error(ErrorCode::kIo, "extract " + q(tar_path) + ": entry " + q(name) + ": " +
                                         archive_message(in.get()));
      }
      if (archive_write_data_block(out.get(), block, size, offset) != ARCHIVE_OK) {
        return Error(ErrorCode::kIo, "extract " + q(tar_path) + ": entry " + q(name) + ": " +
                                         archive_message(out.get()));
      }
      stats.bytes += static_cast<std::int64_t>(size);
    }
    if (archive_write_finish_entry(out.get()) != ARCHIVE_OK) {
      return Error(ErrorCode::kIo, "extract " + q(tar_path) + ": entry " + q(name) + ": " +
                                       archive_message(out.get()));
    }
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK) {
    return Error(ErrorCode::kIo, "extract " + q(tar_path) + ": " + archive_message(out.get()));
  }
  return stats;
}

}  // namespace gantry::agent
