// import_rootfs: directory → tar (libarchive's disk reader and pax writer) or tarball →
// decompressed bytes, each piped through LayerSink, which hashes the uncompressed stream (the
// diff id) and gzips it into a content-store temp file. load_images lives in load.cc.
#include "runtime/image/import.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <memory>

#include "common/digest.h"
#include "common/file.h"
#include "common/json.h"
#include "common/time_format.h"
#include "common/unique_fd.h"

namespace gantry::runtime::image {

namespace {

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string archive_message(archive* a) {
  const char* m = archive_error_string(a);
  return m ? m : "unknown archive error";
}

struct WriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using WritePtr = std::unique_ptr<archive, WriteDeleter>;
using ReadPtr = std::unique_ptr<archive, ReadDeleter>;

struct Layer {
  Digest blob;
  std::string diff_id;
  int64_t size = 0;
};

// Uncompressed tar bytes in; a gzip blob in the content store out.
class LayerSink {
 public:
  static Result<std::unique_ptr<LayerSink>> open(ContentStore& store) {
    std::unique_ptr<LayerSink> s(new LayerSink(store));
    GANTRY_ASSIGN_OR_RETURN(auto temp, store.create_temp());
    s->fd_ = std::move(temp.first);
    s->temp_ = std::move(temp.second);
    archive* a = s->gz_.get();
    archive_write_set_format_raw(a);
    archive_write_add_filter_gzip(a);
    archive_write_set_filter_option(a, "gzip", "compression-level", "3");
    archive_write_set_bytes_per_block(a, 0);
    if (archive_write_open(a, s.get(), nullptr, &LayerSink::out, nullptr) != ARCHIVE_OK)
      return Error(ErrorCode::kIo, "compress layer: " + archive_message(a));
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, "layer.tar");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    int r = archive_write_header(a, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK) return Error(ErrorCode::kIo, "compress layer: " + archive_message(a));
    return s;
  }
  ~LayerSink() {
    if (!temp_.empty()) ::unlink(temp_.c_str());
  }

  Status write(const void* data, size_t size) {
    diff_.update(data, size);
    if (archive_write_data(gz_.get(), data, size) < 0)
      return Error(ErrorCode::kIo, "compress layer: " + archive_message(gz_.get()));
    return ok_status();
  }

  Result<Layer> finish() {
    if (archive_write_close(gz_.get()) != ARCHIVE_OK)
      return Error(ErrorCode::kIo, "compress layer: " + archive_message(gz_.get()));
    if (::fsync(fd_.get()) != 0) return sys_error("fsync " + q(temp_));
    fd_.reset();
    Layer l;
    l.diff_id = "sha256:" + diff_.finish_hex();
    std::string temp = std::move(temp_);
    temp_.clear();
    GANTRY_ASSIGN_OR_RETURN(l.blob, store_.adopt(temp));
    GANTRY_ASSIGN_OR_RETURN(l.size, store_.blob_size(l.blob));
    return l;
  }

  // libarchive's tar writer output callback.
  static la_ssize_t tar_out(archive* a, void* self, const void* buf, size_t n) {
    auto* s = static_cast<LayerSink*>(self);
    auto st = s->write(buf, n);
    if (!st.ok()) {
      archive_set_error(a, EIO, "%s", st.error().message().c_str());
      return -1;
    }
    return static_cast<la_ssize_t>(n);
  }

 private:
  explicit LayerSink(ContentStore& store) : store_(store), gz_(archive_write_new()) {}

  static la_ssize_t out(archive* a, void* self, const void* buf, size_t n) {
    auto* s = static_cast<LayerSink*>(self);
    const char* p = static_cast<const char*>(buf);
    size_t left = n;
    while (left > 0) {
      ssize_t w = ::write(s->fd_.get(), p, left);
      if (w < 0) {
        if (errno == EINTR) continue;
        archive_set_error(a, errno, "write '%s': %s", s->temp_.c_str(), std::strerror(errno));
        return -1;
      }
      p += w;
      left -= static_cast<size_t>(w);
    }
    return static_cast<la_ssize_t>(n);
  }

  ContentStore& store_;
  WritePtr gz_;
  UniqueFd fd_;
  std::string temp_;
  Sha256 diff_;
};

Status copy_file_into(archive* tar, const char* source, const std::string& shown) {
  UniqueFd fd(::open(source, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return sys_error("open " + q(shown));
  std::string buf(1 << 20, '\0');
  while (true) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read " + q(shown));
    }
    if (n == 0) break;
    if (archive_write_data(tar, buf.data(), static_cast<size_t>(n)) < 0)
      return Error(ErrorCode::kIo, "write layer: " + archive_message(tar));
  }
  return ok_status();
}

Status tar_directory(const std::string& dir, LayerSink& sink) {
  ReadPtr disk(archive_read_disk_new());
  archive_read_disk_set_standard_lookup(disk.get());
  archive_read_disk_set_behavior(disk.get(), ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
  if (archive_read_disk_open(disk.get(), dir.c_str()) != ARCHIVE_OK)
    return Error(ErrorCode::kNotFound, "read " + q(dir) + ": " + archive_message(disk.get()));
  WritePtr tar(archive_write_new());
  archive_write_set_format_pax_restricted(tar.get());
  if (archive_write_open(tar.get(), &sink, nullptr, &LayerSink::tar_out, nullptr) != ARCHIVE_OK)
    return Error(ErrorCode::kIo, "write layer: " + archive_message(tar.get()));
  std::unique_ptr<archive_entry_linkresolver, void (*)(archive_entry_linkresolver*)> links(
      archive_entry_linkresolver_new(), archive_entry_linkresolver_free);
  archive_entry_linkresolver_set_strategy(links.get(), archive_format(tar.get()));
  std::string prefix = dir;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  prefix += "/";
  while (true) {
    archive_entry* entry = archive_entry_new();
    int r = archive_read_next_header2(disk.get(), entry);
    if (r == ARCHIVE_EOF) {
      archive_entry_free(entry);
      break;
    }
    if (r < ARCHIVE_WARN) {
      Error e(ErrorCode::kIo, "read " + q(dir) + ": " + archive_message(disk.get()));
      archive_entry_free(entry);
      return e;
    }
    archive_read_disk_descend(disk.get());
    std::string path = archive_entry_pathname(entry);
    if (!path.starts_with(prefix)) {  // the root itself
      archive_entry_free(entry);
      continue;
    }
    std::string rel = path.substr(prefix.size());
    std::string source = archive_entry_sourcepath(entry) ? archive_entry_sourcepath(entry) : path;
    archive_entry_set_pathname(entry, rel.c_str());
    archive_entry* spare = nullptr;
    archive_entry* out = entry;
    archive_entry_linkify(links.get(), &out, &spare);
    for (archive_entry* e : {out, spare}) {
      if (e == nullptr) continue;
      if (archive_write_header(tar.get(), e) < ARCHIVE_WARN) {
        Error err(ErrorCode::kIo,
                  "write layer entry " + q(rel) + ": " + archive_message(tar.get()));
        archive_entry_free(entry);
        return err;
      }
      if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) {
        const char* src =
            archive_entry_sourcepath(e) ? archive_entry_sourcepath(e) : source.c_str();
        auto st = copy_file_into(tar.get(), src, rel);
        if (!st.ok()) {
          archive_entry_free(entry);
          return st;
        }
      }
    }
    if (out != entry && out != nullptr) archive_entry_free(out);
    if (spare != nullptr && spare != entry) archive_entry_free(spare);
    archive_entry_free(entry);
  }
  if (archive_write_close(tar.get()) != ARCHIVE_OK)
    return Error(ErrorCode::kIo, "write layer: " + archive_message(tar.get()));
  return ok_status();
}

Status copy_tarball(const std::string& path, LayerSink& sink) {
  ReadPtr in(archive_read_new());
  archive_read_support_filter_all(in.get());
  archive_read_support_format_raw(in.get());
  archive_entry* e;
  if (archive_read_open_filename(in.get(), path.c_str(), 1 << 20) != ARCHIVE_OK ||
      archive_read_next_header(in.get(), &e) != ARCHIVE_OK)
    return Error(ErrorCode::kInvalidArgument, "read " + q(path) + ": " + archive_message(in.get()));
  const void* buf;
  size_t size;
  la_int64_t offset;
  while (true) {
    int r = archive_read_data_block(in.get(), &buf, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      return Error(ErrorCode::kInvalidArgument,
                   "read " + q(path) + ": " + archive_message(in.get()));
    GANTRY_TRY(sink.write(buf, size));
  }
  return ok_status();
}

}  // namespace

Result<ImageRecord> import_rootfs(ImageStore& store, const std::string& source,
                                  const std::string& name, const ImportOptions& options) {
  auto fail = [&](Error e) { return std::move(e).with_context("import " + q(source)); };
  struct stat st;
  if (::stat(source.c_str(), &st) != 0) return fail(sys_error("stat " + q(source)));
  auto lease = store.content().lease();
  if (!lease.ok()) return fail(std::move(lease).error());
  auto sink = LayerSink::open(store.content());
  if (!sink.ok()) return fail(std::move(sink).error());
  Status copied =
      S_ISDIR(st.st_mode) ? tar_directory(source, **sink) : copy_tarball(source, **sink);
  if (!copied.ok()) return fail(std::move(copied).error());
  auto layer = (*sink)->finish();
  if (!layer.ok()) return fail(std::move(layer).error());
  if (S_ISREG(st.st_mode) && layer->diff_id == "sha256:" + sha256_hex(""))
    return fail(Error(ErrorCode::kInvalidArgument, "empty tarball"));

  Platform host = host_platform();
  std::string created = rfc3339_now();
  Json cfg_run = Json::object();
  cfg_run["Env"] = options.env;
  if (!options.cmd.empty()) cfg_run["Cmd"] = options.cmd;
  if (!options.entrypoint.empty()) cfg_run["Entrypoint"] = options.entrypoint;
  if (!options.exposed_ports.empty()) {
    Json ports = Json::object();
    for (const auto& p : options.exposed_ports) {
      ports[p.find('/') == std::string::npos ? p + "/tcp" : p] = Json::object();
    }
    cfg_run["ExposedPorts"] = ports;
  }
  if (!options.working_dir.empty()) cfg_run["WorkingDir"] = options.working_dir;
  if (!options.user.empty()) cfg_run["User"] = options.user;
  Json config{{"created", created},
              {"architecture", host.architecture},
              {"os", host.os},
              {"config", cfg_run},
              {"rootfs", {{"type", "layers"}, {"diff_ids", {layer->diff_id}}}},
              {"history", {{{"created", created}, {"created_by", "gantry image import"}}}}};
  if (!host.variant.empty()) config["variant"] = host.variant;
  std::string config_bytes = config.dump();
  auto config_digest = store.content().put_new(config_bytes);
  if (!config_digest.ok()) return fail(std::move(config_digest).error());
  Json manifest{{"schemaVersion", 2},
                {"mediaType", media_type::kOciManifest},
                {"config",
                 {{"mediaType", media_type::kOciConfig},
                  {"digest", config_digest->str()},
                  {"size", config_bytes.size()}}},
                {"layers",
                 {{{"mediaType", media_type::kOciLayerGzip},
                   {"digest", layer->blob.str()},
                   {"size", layer->size}}}}};
  auto manifest_digest = store.content().put_new(manifest.dump());
  if (!manifest_digest.ok()) return fail(std::move(manifest_digest).error());
  auto rec = store.commit_image(name, manifest_digest->str(), host);
  if (!rec.ok()) return fail(std::move(rec).error());
  return rec;
}

}  // namespace gantry::runtime::image
