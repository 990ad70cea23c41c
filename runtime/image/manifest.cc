#include "runtime/image/manifest.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>

#include "common/digest.h"

namespace gantry::runtime::image {

namespace {

Error bad(std::string_view where, std::string_view why) {
  return Error(ErrorCode::kInvalidArgument, std::string(where) + ": " + std::string(why));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Optional string member; null and absent are "".
Result<std::string> opt_string(const Json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return bad(where + "." + key, "expected a string");
  return it->get<std::string>();
}

Result<std::vector<std::string>> opt_strings(const Json& obj, const char* key,
                                             const std::string& where) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) return bad(where + "." + key, "expected an array of strings");
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& v = (*it)[i];
    if (!v.is_string())
      return bad(where + "." + key + "[" + std::to_string(i) + "]", "expected a string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::map<std::string, std::string>> opt_string_map(const Json& obj, const char* key,
                                                          const std::string& where) {
  std::map<std::string, std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_object()) return bad(where + "." + key, "expected an object of strings");
  for (auto& [k, v] : it->items()) {
    if (!v.is_string()) return bad(where + "." + key + "." + k, "expected a string");
    out[k] = v.get<std::string>();
  }
  return out;
}

Result<Platform> parse_platform_json(const Json& j, const std::string& where) {
  if (!j.is_object()) return bad(where, "expected an object");
  Platform p;
  GANTRY_ASSIGN_OR_RETURN(p.os, opt_string(j, "os", where));
  GANTRY_ASSIGN_OR_RETURN(p.architecture, opt_string(j, "architecture", where));
  GANTRY_ASSIGN_OR_RETURN(p.variant, opt_string(j, "variant", where));
  GANTRY_ASSIGN_OR_RETURN(p.os_version, opt_string(j, "os.version", where));
  GANTRY_ASSIGN_OR_RETURN(p.os_features, opt_strings(j, "os.features", where));
  return p;
}

Result<Descriptor> parse_descriptor(const Json& j, const std::string& where) {
  if (!j.is_object()) return bad(where, "expected a descriptor object");
  Descriptor d;
  GANTRY_ASSIGN_OR_RETURN(d.media_type, opt_string(j, "mediaType", where));
  auto dig = j.find("digest");
  if (dig == j.end() || !dig->is_string()) return bad(where + ".digest", "missing or not a string");
  auto parsed = parse_digest(dig->get<std::string>());
  if (!parsed.ok()) return bad(where + ".digest", parsed.error().message());
  d.digest = parsed->str();
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer() || size->get<int64_t>() < 0)
    return bad(where + ".size", "missing or not a non-negative integer");
  d.size = size->get<int64_t>();
  GANTRY_ASSIGN_OR_RETURN(d.urls, opt_strings(j, "urls", where));
  GANTRY_ASSIGN_OR_RETURN(d.annotations, opt_string_map(j, "annotations", where));
  if (auto p = j.find("platform"); p != j.end() && !p->is_null()) {
    GANTRY_ASSIGN_OR_RETURN(Platform plat, parse_platform_json(*p, where + ".platform"));
    d.platform = std::move(plat);
  }
  return d;
}

// arm variants an arm host of variant `v` runs, best first.
std::vector<std::string> arm_compatible(const std::string& v) {
  if (v == "v8") return {"v8", "v7", "v6", "v5"};
  if (v == "v7") return {"v7", "v6", "v5"};
  if (v == "v6") return {"v6", "v5"};
  return {v};
}

}  // namespace

std::string manifest_accept_header() {
  return std::string(media_type::kOciIndex) + ", " + std::string(media_type::kOciManifest) +
         ", " + std::string(media_type::kDockerManifestList) + ", " +
         std::string(media_type::kDockerManifest);
}

std::string Platform::str() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

Platform normalize_platform(Platform p) {
  p.os = lower(p.os);
  if (p.os == "macos") p.os = "darwin";
  std::string arch = lower(p.architecture), var = lower(p.variant);
  if (arch == "i386") {
    arch = "386";
    var = "";
  } else if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
    arch = "amd64";
    if (var == "v1") var = "";
  } else if (arch == "aarch64" || arch == "arm64") {
    arch = "arm64";
    if (var == "8" || var == "v8" || var == "v8.0") var = "";
  } else if (arch == "armhf") {
    arch = "arm";
    var = "v7";
  } else if (arch == "armel") {
    arch = "arm";
    var = "v6";
  } else if (arch == "arm") {
    if (var.empty() || var == "7") var = "v7";
    else if (var == "5" || var == "6" || var == "8") var = "v" + var;
  }
  p.architecture = arch;
  p.variant = var;
  return p;
}

Result<Platform> parse_platform(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  auto err = [&](std::string_view why) {
    return Error(ErrorCode::kInvalidArgument,
                 "platform '" + std::string(text) + "': " + std::string(why));
  };
  if (parts.size() < 2 || parts.size() > 3)
    return err("expected 'os/architecture[/variant]', e.g. 'linux/arm64'");
  for (const auto& part : parts) {
    if (part.empty()) return err("empty component");
    for (char c : part)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
        return err("invalid character '" + std::string(1, c) + "'");
  }
  Platform p;
  p.os = parts[0];
  p.architecture = parts[1];
  if (parts.size() == 3) p.variant = parts[2];
  return normalize_platform(std::move(p));
}

Platform host_platform() {
  struct utsname u;
  Platform p;
  p.os = "linux";
  p.architecture = ::uname(&u) == 0 ? u.machine : "amd64";
  if (p.architecture == "armv7l") p.architecture = "arm", p.variant = "v7";
  if (p.architecture == "armv6l") p.architecture = "arm", p.variant = "v6";
  return normalize_platform(std::move(p));
}

bool platform_matches(const Platform& want_in, const Platform& have_in) {
  Platform want = normalize_platform(want_in), have = normalize_platform(have_in);
  if (want.os != have.os || want.architecture != have.architecture) return false;
  if (want.variant == have.variant) return true;
  if (want.architecture == "arm") {
    auto ok = arm_compatible(want.variant);
    return std::find(ok.begin(), ok.end(), have.variant) != ok.end();
  }
  return false;
}

Result<Manifest> parse_manifest(std::string_view bytes, std::string_view content_type) {
  auto parsed = parse_json(bytes, "manifest");
  if (!parsed.ok()) return std::move(parsed).error();
  const Json& j = *parsed;
  if (!j.is_object()) return bad("manifest", "expected a JSON object");
  auto sv = j.find("schemaVersion");
  if (sv != j.end() && sv->is_number_integer() && sv->get<int>() == 1)
    return Error(ErrorCode::kUnimplemented,
                 "manifest: Docker schema 1 manifests are not supported (deprecated format)");
  if (sv == j.end() || !sv->is_number_integer() || sv->get<int>() != 2)
    return bad("manifest.schemaVersion", "expected 2");
  GANTRY_ASSIGN_OR_RETURN(std::string mt, opt_string(j, "mediaType", "manifest"));
  if (mt.empty()) {
    std::string ct(content_type.substr(0, content_type.find(';')));
    while (!ct.empty() && ct.back() == ' ') ct.pop_back();
    if (ct != "application/json" && ct != "application/octet-stream") mt = ct;
  }
  if (mt.empty()) {
    if (j.contains("manifests")) mt = std::string(media_type::kOciIndex);
    else if (j.contains("layers") || j.contains("config"))
      mt = std::string(media_type::kOciManifest);
  }
  Manifest m;
  if (mt == media_type::kOciManifest) m.kind = ManifestKind::kOciManifest;
  else if (mt == media_type::kDockerManifest) m.kind = ManifestKind::kDockerManifest;
  else if (mt == media_type::kOciIndex) m.kind = ManifestKind::kOciIndex;
  else if (mt == media_type::kDockerManifestList) m.kind = ManifestKind::kDockerManifestList;
  else if (mt.empty()) return bad("manifest", "no mediaType and neither 'layers' nor 'manifests'");
  else
    return Error(ErrorCode::kUnimplemented, "manifest: unsupported media type '" + mt + "'");

  if (m.is_index()) {
    m.index.media_type = mt;
    auto list = j.find("manifests");
    if (list == j.end() || !list->is_array())
      return bad("manifest.manifests", "missing or not an array");
    for (size_t i = 0; i < list->size(); ++i) {
      GANTRY_ASSIGN_OR_RETURN(
          Descriptor d,
          parse_descriptor((*list)[i], "manifest.manifests[" + std::to_string(i) + "]"));
      m.index.manifests.push_back(std::move(d));
    }
    GANTRY_ASSIGN_OR_RETURN(m.index.annotations, opt_string_map(j, "annotations", "manifest"));
    return m;
  }
  m.image.media_type = mt;
  auto cfg = j.find("config");
  if (cfg == j.end()) return bad("manifest.config", "missing");
  GANTRY_ASSIGN_OR_RETURN(m.image.config, parse_descriptor(*cfg, "manifest.config"));
  auto layers = j.find("layers");
  if (layers == j.end() || !layers->is_array())
    return bad("manifest.layers", "missing or not an array");
  for (size_t i = 0; i < layers->size(); ++i) {
    std::string where = "manifest.layers[" + std::to_string(i) + "]";
    GANTRY_ASSIGN_OR_RETURN(Descriptor d, parse_descriptor((*layers)[i], where));
    m.image.layers.push_back(std::move(d));
  }
  GANTRY_ASSIGN_OR_RETURN(m.image.annotations, opt_string_map(j, "annotations", "manifest"));
  return m;
}

Result<Descriptor> select_platform(const ImageIndex& index, const Platform& want) {
  const Descriptor* best = nullptr;
  int best_rank = 1 << 30;
  std::string have;
  Platform w = normalize_platform(want);
  std::vector<std::string> order =
      w.architecture == "arm" ? arm_compatible(w.variant) : std::vector<std::string>{w.variant};
  for (const auto& d : index.manifests) {
    if (!d.platform) continue;
    // Attestations and signatures ride in indexes under an "unknown/unknown" platform.
    if (d.platform->os == "unknown") continue;
    Platform h = normalize_platform(*d.platform);
    if (!have.empty()) have += ", ";
    have += h.str();
    if (!platform_matches(w, h)) continue;
    int rank = static_cast<int>(std::find(order.begin(), order.end(), h.variant) - order.begin());
    if (rank < best_rank) {
      best_rank = rank;
      best = &d;
    }
  }
  if (best == nullptr)
    return Error(ErrorCode::kNotFound, "no image for platform " + w.str() + " (have " +
                                           (have.empty() ? std::string("none") : have) + ")");
  return *best;
}

Result<Compression> layer_compression(std::string_view mt) {
  if (mt == media_type::kOciLayer || mt == "application/vnd.docker.image.rootfs.diff.tar" ||
      mt == "application/vnd.oci.image.layer.nondistributable.v1.tar")
    return Compression::kNone;
  if (mt == media_type::kOciLayerGzip || mt == media_type::kDockerLayerGzip ||
      mt == media_type::kDockerForeignLayerGzip ||
      mt == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")
    return Compression::kGzip;
  if (mt == media_type::kOciLayerZstd ||
      mt == "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd")
    return Compression::kZstd;
  return Error(ErrorCode::kUnimplemented, "unsupported layer media type '" + std::string(mt) + "'");
}

Result<ImageConfig> parse_image_config(std::string_view bytes) {
  auto parsed = parse_json(bytes, "image config");
  if (!parsed.ok()) return std::move(parsed).error();
  const Json& j = *parsed;
  const std::string where = "image config";
  if (!j.is_object()) return bad(where, "expected a JSON object");
  ImageConfig c;
  GANTRY_ASSIGN_OR_RETURN(c.platform, parse_platform_json(j, where));
  GANTRY_ASSIGN_OR_RETURN(c.created, opt_string(j, "created", where));
  GANTRY_ASSIGN_OR_RETURN(c.author, opt_string(j, "author", where));
  if (auto cfg = j.find("config"); cfg != j.end() && !cfg->is_null()) {
    const std::string w = where + ".config";
    if (!cfg->is_object()) return bad(w, "expected an object");
    GANTRY_ASSIGN_OR_RETURN(c.env, opt_strings(*cfg, "Env", w));
    GANTRY_ASSIGN_OR_RETURN(c.entrypoint, opt_strings(*cfg, "Entrypoint", w));
    GANTRY_ASSIGN_OR_RETURN(c.cmd, opt_strings(*cfg, "Cmd", w));
    GANTRY_ASSIGN_OR_RETURN(c.working_dir, opt_string(*cfg, "WorkingDir", w));
    GANTRY_ASSIGN_OR_RETURN(c.user, opt_string(*cfg, "User", w));
    GANTRY_ASSIGN_OR_RETURN(c.labels, opt_string_map(*cfg, "Labels", w));
    GANTRY_ASSIGN_OR_RETURN(c.stop_signal, opt_string(*cfg, "StopSignal", w));
    for (const char* key : {"ExposedPorts", "Volumes"}) {
      auto it = cfg->find(key);
      if (it == cfg->end() || it->is_null()) continue;
      if (!it->is_object()) return bad(w + "." + key, "expected an object");
      auto& out = std::string_view(key) == "Volumes" ? c.volumes : c.exposed_ports;
      for (auto& [k, v] : it->items()) out.push_back(k);
    }
  }
  auto rootfs = j.find("rootfs");
  if (rootfs == j.end() || !rootfs->is_object()) return bad(where + ".rootfs", "missing");
  GANTRY_ASSIGN_OR_RETURN(std::string type, opt_string(*rootfs, "type", where + ".rootfs"));
  if (type != "layers") return bad(where + ".rootfs.type", "expected 'layers'");
  GANTRY_ASSIGN_OR_RETURN(c.diff_ids, opt_strings(*rootfs, "diff_ids", where + ".rootfs"));
  for (size_t i = 0; i < c.diff_ids.size(); ++i) {
    auto d = parse_digest(c.diff_ids[i]);
    if (!d.ok())
      return bad(where + ".rootfs.diff_ids[" + std::to_string(i) + "]", d.error().message());
  }
  c.raw = j;
  return c;
}

std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> out;
  for (const auto& d : diff_ids) {
    if (out.empty()) out.push_back(d);
    else out.push_back("sha256:" + sha256_hex(out.back() + " " + d));
  }
  return out;
}

}  // namespace gantry::runtime::image
