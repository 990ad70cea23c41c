// Image manifests and configs: the four manifest media types (OCI manifest and index, Docker
// schema 2 manifest and manifest list), the OCI/Docker image config, platforms (parse, match
// with variants, choose from an index) and layer chain ids. The puller, `image load/import`
// and the image store parse what they fetch or read with these. PURE: no I/O; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/result.h"

namespace gantry::runtime::image {

namespace media_type {
constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
constexpr std::string_view kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
constexpr std::string_view kDockerForeignLayerGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}  // namespace media_type

// The Accept header value a registry client sends for manifests: all four types.
std::string manifest_accept_header();

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // "amd64", "arm64", "arm", ...
  std::string variant;       // "v8", "v7", or ""
  std::string os_version;
  std::vector<std::string> os_features;

  // "linux/arm64/v8" ("linux/amd64" without a variant).
  std::string str() const;
  bool operator==(const Platform&) const = default;
};

// Parses "os/arch[/variant]" (`--platform`), normalizing names as containerd does:
// x86_64→amd64, aarch64→arm64, armhf→arm/v7, arm→arm/v7, arm64/v8→arm64 (v8 is its default).
Result<Platform> parse_platform(std::string_view text);
// linux/<host arch>, normalized as above.
Platform host_platform();
// Whether an image for `have` runs where `want` is asked: same os and architecture, and a
// variant compatible after normalization (an arm/v7 host runs arm/v6 and arm/v5 images).
Platform normalize_platform(Platform p);
bool platform_matches(const Platform& want, const Platform& have);

struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<hex>", validated on parse
  int64_t size = 0;
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;  // in an index/list entry
};

enum class ManifestKind { kOciManifest, kOciIndex, kDockerManifest, kDockerManifestList };

// An image manifest (OCI manifest or Docker schema 2): one config, layers lowest first.
struct ImageManifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
};

// An OCI index or a Docker manifest list: one manifest per platform.
struct ImageIndex {
  std::string media_type;
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
};

struct Manifest {
  ManifestKind kind = ManifestKind::kOciManifest;
  ImageManifest image;  // when kind is kOciManifest or kDockerManifest
  ImageIndex index;     // when kind is kOciIndex or kDockerManifestList
  bool is_index() const {
    return kind == ManifestKind::kOciIndex || kind == ManifestKind::kDockerManifestList;
  }
};

// Parses a manifest. The type comes from the document's `mediaType`, else from
// `content_type` (the HTTP Content-Type or the descriptor's media type), else from its shape
// (`manifests` → index, `layers` → manifest). Schema 1 and unknown types are kUnimplemented;
// malformed documents kInvalidArgument naming the field: "manifest: layers[2].digest: …".
Result<Manifest> parse_manifest(std::string_view bytes, std::string_view content_type = "");

// The entry of `index` for `want`: an exact variant match first, then a compatible one.
// kNotFound lists what the index has: "no image for linux/s390x (have linux/amd64, …)".
Result<Descriptor> select_platform(const ImageIndex& index, const Platform& want);

enum class Compression { kNone, kGzip, kZstd };
// The compression a layer media type says, kUnimplemented for non-layer or unknown types.
Result<Compression> layer_compression(std::string_view media_type);

// The parts of an image config (OCI image-spec config.md; Docker's is the same shape) Gantry
// uses. `raw` keeps the whole document for `image inspect`.
struct ImageConfig {
  Platform platform;
  std::string created;  // RFC 3339 or ""
  std::string author;
  std::vector<std::string> env;  // "KEY=value"
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string user;  // "uid[:gid]" or "name[:group]" or ""
  std::map<std::string, std::string> labels;
  std::vector<std::string> exposed_ports;  // "80/tcp"
  std::vector<std::string> volumes;
  std::string stop_signal;
  std::vector<std::string> diff_ids;  // "sha256:…" of each uncompressed layer, lowest first
  Json raw;
};

Result<ImageConfig> parse_image_config(std::string_view bytes);

// Chain ids (OCI image-spec config.md "Layer ChainID"): ChainID(L0) = DiffID(L0),
// ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). One per layer, lowest first.
std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids);

}  // namespace gantry::runtime::image
