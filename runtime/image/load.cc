// load_images: an OCI image layout or a `docker save` archive into the image store. A tar is
// first unpacked (with the layer unpacker's containment) into a temp dir under the store, then
// read like a directory. Files are opened with openat2(RESOLVE_IN_ROOT) relative to the
// layout, so a symlink in a hostile archive cannot make us read a host file as a blob.
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "common/digest.h"
#include "common/file.h"
#include "common/json.h"
#include "common/unique_fd.h"
#include "runtime/image/import.h"
#include "runtime/image/unpack.h"

namespace gantry::runtime::image {

namespace {

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

Result<UniqueFd> open_in(const std::string& root, const std::string& rel) {
  UniqueFd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys_error("open " + q(root));
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, dir.get(), rel.c_str(), &how, sizeof how)));
  if (!fd) {
    if (errno == ENOENT) return Error(ErrorCode::kNotFound, q(rel) + " not found in " + q(root));
    return sys_error("open " + q(rel) + " in " + q(root));
  }
  return fd;
}

Result<std::string> read_in(const std::string& root, const std::string& rel,
                            size_t max = 16 << 20) {
  GANTRY_ASSIGN_OR_RETURN(UniqueFd fd, open_in(root, rel));
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read " + q(rel));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max) return Error(ErrorCode::kResourceExhausted, q(rel) + " is too large");
  }
  return out;
}

// Streams `fd` into the store as blob `d` of `size` bytes (-1 unknown), verifying it.
Status ingest_fd(ContentStore& store, int fd, const Digest& d, int64_t size) {
  GANTRY_ASSIGN_OR_RETURN(auto writer, store.begin(d, size));
  if (!writer) return ok_status();
  std::string buf(1 << 20, '\0');
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read blob " + q(d.str()));
    }
    if (n == 0) break;
    GANTRY_TRY(writer->write(buf.data(), static_cast<size_t>(n)));
  }
  return writer->commit();
}

class Loader {
 public:
  Loader(ImageStore& store, std::string dir, Platform platform, std::string name)
      : store_(store), dir_(std::move(dir)), platform_(std::move(platform)),
        name_(std::move(name)) {}

  Result<std::vector<ImageRecord>> run() {
    if (open_in(dir_, "index.json").ok() && open_in(dir_, "oci-layout").ok()) return oci();
    if (open_in(dir_, "manifest.json").ok()) return docker();
    return Error(ErrorCode::kInvalidArgument,
                 "neither an OCI image layout (oci-layout, index.json) nor a docker save archive "
                 "(manifest.json)");
  }

 private:
  Result<std::string> ingest_descriptor(const Descriptor& d) {
    GANTRY_ASSIGN_OR_RETURN(Digest dig, parse_digest(d.digest));
    GANTRY_ASSIGN_OR_RETURN(UniqueFd fd, open_in(dir_, "blobs/" + dig.algorithm + "/" + dig.hex));
    auto st = ingest_fd(store_.content(), fd.get(), dig, d.size);
    if (!st.ok()) return std::move(st).error();
    return dig.str();
  }

  // The manifest (and for an index, the platform's manifest), its config and layers.
  Status ingest_image(const Descriptor& top) {
    GANTRY_TRY(ingest_descriptor(top));
    GANTRY_ASSIGN_OR_RETURN(std::string bytes, store_.content().read(*parse_digest(top.digest)));
    GANTRY_ASSIGN_OR_RETURN(Manifest m, parse_manifest(bytes, top.media_type));
    if (m.is_index()) {
      GANTRY_ASSIGN_OR_RETURN(Descriptor chosen, select_platform(m.index, platform_));
      GANTRY_TRY(ingest_descriptor(chosen));
      GANTRY_ASSIGN_OR_RETURN(bytes, store_.content().read(*parse_digest(chosen.digest)));
      GANTRY_ASSIGN_OR_RETURN(m, parse_manifest(bytes, chosen.media_type));
      if (m.is_index()) return Error(ErrorCode::kUnimplemented, "nested index " + q(chosen.digest));
    }
    GANTRY_TRY(ingest_descriptor(m.image.config));
    for (const auto& l : m.image.layers) GANTRY_TRY(ingest_descriptor(l));
    return ok_status();
  }

  Result<std::vector<ImageRecord>> oci() {
    GANTRY_ASSIGN_OR_RETURN(std::string text, read_in(dir_, "index.json"));
    GANTRY_ASSIGN_OR_RETURN(Manifest index, parse_manifest(text, media_type::kOciIndex));
    if (!index.is_index()) return Error(ErrorCode::kInvalidArgument, "index.json: not an index");
    std::vector<ImageRecord> out;
    const auto& entries = index.index.manifests;
    for (size_t i = 0; i < entries.size(); ++i) {
      const Descriptor& d = entries[i];
      std::string name = name_;
      if (name.empty()) {
        auto full = d.annotations.find("io.containerd.image.name");
        auto ref_name = d.annotations.find("org.opencontainers.image.ref.name");
        std::string candidate = full != d.annotations.end()       ? full->second
                                : ref_name != d.annotations.end() ? ref_name->second
                                                                  : "";
        // A bare tag ("latest") is not a name: it would silently become docker.io/library/latest.
        bool bare_tag = candidate.find('/') == std::string::npos &&
                        candidate.find(':') == std::string::npos &&
                        full == d.annotations.end();
        if (candidate.empty() || bare_tag)
          return Error(ErrorCode::kInvalidArgument,
                       "index.json manifests[" + std::to_string(i) + "] has no image name" +
                           (candidate.empty() ? "" : " (only the tag " + q(candidate) + ")") +
                           ": give one with --name");
        GANTRY_ASSIGN_OR_RETURN(Reference ref, parse_reference(candidate));
        name = ref.str();
      } else if (entries.size() != 1) {
        return Error(ErrorCode::kInvalidArgument,
                     "--name needs a layout with one image; this one has " +
                         std::to_string(entries.size()));
      }
      GANTRY_TRY(ingest_image(d));
      GANTRY_ASSIGN_OR_RETURN(ImageRecord rec, store_.commit_image(name, d.digest, platform_));
      out.push_back(std::move(rec));
    }
    if (out.empty()) return Error(ErrorCode::kInvalidArgument, "index.json lists no images");
    return out;
  }

  // A file of the archive as a blob, media type from its magic bytes.
  Result<Descriptor> ingest_file(const std::string& rel, bool layer) {
    GANTRY_ASSIGN_OR_RETURN(UniqueFd fd, open_in(dir_, rel));
    Sha256 h;
    std::string buf(1 << 20, '\0');
    int64_t size = 0;
    unsigned char magic[4] = {};
    while (true) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys_error("read " + q(rel));
      }
      if (n == 0) break;
      if (size == 0) std::memcpy(magic, buf.data(), std::min<size_t>(4, static_cast<size_t>(n)));
      h.update(buf.data(), static_cast<size_t>(n));
      size += n;
    }
    Digest d{"sha256", h.finish_hex()};
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) return sys_error("seek " + q(rel));
    GANTRY_TRY(ingest_fd(store_.content(), fd.get(), d, size));
    Descriptor desc;
    desc.digest = d.str();
    desc.size = size;
    if (!layer) desc.media_type = std::string(media_type::kDockerConfig);
    else if (magic[0] == 0x1f && magic[1] == 0x8b)
      desc.media_type = std::string(media_type::kDockerLayerGzip);
    else if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
      desc.media_type = std::string(media_type::kOciLayerZstd);
    else desc.media_type = "application/vnd.docker.image.rootfs.diff.tar";
    return desc;
  }

  Result<std::vector<ImageRecord>> docker() {
    GANTRY_ASSIGN_OR_RETURN(std::string text, read_in(dir_, "manifest.json"));
    GANTRY_ASSIGN_OR_RETURN(Json list, parse_json(text, "manifest.json"));
    if (!list.is_array() || list.empty())
      return Error(ErrorCode::kInvalidArgument, "manifest.json: expected a non-empty array");
    std::vector<ImageRecord> out;
    for (size_t i = 0; i < list.size(); ++i) {
      const Json& e = list[i];
      std::string where = "manifest.json[" + std::to_string(i) + "]";
      if (!e.is_object() || !e.contains("Config") || !e["Config"].is_string() ||
          !e.contains("Layers") || !e["Layers"].is_array())
        return Error(ErrorCode::kInvalidArgument, where + ": needs 'Config' and 'Layers'");
      GANTRY_ASSIGN_OR_RETURN(Descriptor config,
                              ingest_file(e["Config"].get<std::string>(), false));
      Json layers = Json::array();
      for (const auto& l : e["Layers"]) {
        if (!l.is_string())
          return Error(ErrorCode::kInvalidArgument, where + ".Layers: not a string");
        GANTRY_ASSIGN_OR_RETURN(Descriptor d, ingest_file(l.get<std::string>(), true));
        layers.push_back({{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}});
      }
      Json manifest{{"schemaVersion", 2},
                    {"mediaType", media_type::kDockerManifest},
                    {"config", {{"mediaType", config.media_type}, {"digest", config.digest},
                                {"size", config.size}}},
                    {"layers", layers}};
      GANTRY_ASSIGN_OR_RETURN(Digest md, store_.content().put_new(manifest.dump()));
      std::vector<std::string> names;
      if (!name_.empty()) {
        if (list.size() != 1)
          return Error(ErrorCode::kInvalidArgument, "--name needs an archive with one image");
        names.push_back(name_);
      } else if (e.contains("RepoTags") && e["RepoTags"].is_array()) {
        for (const auto& t : e["RepoTags"]) {
          if (!t.is_string()) continue;
          GANTRY_ASSIGN_OR_RETURN(Reference ref, parse_reference(t.get<std::string>()));
          names.push_back(ref.str());
        }
      }
      if (names.empty())
        return Error(ErrorCode::kInvalidArgument,
                     where + " has no RepoTags: give a name with --name");
      for (const auto& n : names) {
        GANTRY_ASSIGN_OR_RETURN(ImageRecord rec, store_.commit_image(n, md.str(), platform_));
        out.push_back(std::move(rec));
      }
    }
    return out;
  }

  ImageStore& store_;
  std::string dir_;
  Platform platform_;
  std::string name_;
};

}  // namespace

Result<std::vector<ImageRecord>> load_images(ImageStore& store, const std::string& source,
                                             const Platform& platform, const std::string& name) {
  auto ctx = "load " + q(source);
  struct stat st;
  if (::stat(source.c_str(), &st) != 0) return sys_error("stat " + q(source)).with_context(ctx);
  auto lease = store.content().lease();
  if (!lease.ok()) return std::move(lease).error().with_context(ctx);
  std::string dir = source;
  std::string temp;
  if (!S_ISDIR(st.st_mode)) {
    temp = join_path(store.content().root(), "ingest/load.XXXXXX");
    if (::mkdtemp(temp.data()) == nullptr) return sys_error("create " + q(temp)).with_context(ctx);
    UniqueFd fd(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
    auto unpacked = fd ? unpack_layer(fd.get(), temp, UnpackOptions{.privileged = false})
                       : Result<UnpackStats>(sys_error("open " + q(source)));
    if (!unpacked.ok()) {
      (void)remove_all(temp);
      return std::move(unpacked).error().with_context(ctx);
    }
    dir = temp;
  }
  auto out = Loader(store, dir, platform, name).run();
  if (!temp.empty()) (void)remove_all(temp);
  if (!out.ok()) return std::move(out).error().with_context(ctx);
  return out;
}

}  // namespace gantry::runtime::image
