#include "runtime/image/image_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "common/file.h"
#include "common/logging.h"

namespace gantry::runtime::image {

namespace {

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

bool is_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

}  // namespace

Result<std::shared_ptr<ImageStore>> ImageStore::open(const std::string& root,
                                                     UnpackOptions options) {
  GANTRY_ASSIGN_OR_RETURN(auto content, ContentStore::open(root));
  GANTRY_ASSIGN_OR_RETURN(auto snaps, Snapshotter::open(root, options));
  return std::shared_ptr<ImageStore>(new ImageStore(std::move(content), std::move(snaps)));
}

Result<ImageRecord> ImageStore::commit_image(const std::string& name, const std::string& digest,
                                             const Platform& platform) {
  auto fail = [&](Error e) { return std::move(e).with_context("store image " + q(name)); };
  auto top_digest = parse_digest(digest);
  if (!top_digest.ok()) return fail(std::move(top_digest).error());
  auto top_bytes = content_->read(*top_digest);
  if (!top_bytes.ok()) return fail(std::move(top_bytes).error());
  auto top = parse_manifest(*top_bytes);
  if (!top.ok()) return fail(std::move(top).error());

  ImageRecord rec;
  rec.name = name;
  rec.digest = top_digest->str();
  Manifest manifest = std::move(*top);
  if (manifest.is_index()) {
    auto chosen = select_platform(manifest.index, platform);
    if (!chosen.ok()) return fail(std::move(chosen).error());
    auto md = parse_digest(chosen->digest);
    auto bytes = content_->read(*md);
    if (!bytes.ok()) return fail(std::move(bytes).error());
    auto inner = parse_manifest(*bytes, chosen->media_type);
    if (!inner.ok()) return fail(std::move(inner).error());
    if (inner->is_index())
      return fail(Error(ErrorCode::kUnimplemented, "nested index " + q(chosen->digest)));
    manifest = std::move(*inner);
    rec.manifest_digest = md->str();
  } else {
    rec.manifest_digest = rec.digest;
  }
  const ImageManifest& im = manifest.image;
  auto cd = parse_digest(im.config.digest);
  auto config_bytes = content_->read(*cd);
  if (!config_bytes.ok()) return fail(std::move(config_bytes).error());
  auto config = parse_image_config(*config_bytes);
  if (!config.ok()) return fail(std::move(config).error());
  if (config->diff_ids.size() != im.layers.size())
    return fail(Error(ErrorCode::kInvalidArgument,
                      "manifest has " + std::to_string(im.layers.size()) +
                          " layers but its config lists " +
                          std::to_string(config->diff_ids.size()) + " diff ids"));
  rec.config_digest = cd->str();
  rec.platform = normalize_platform(config->platform).str();
  rec.created = config->created;
  rec.chain_ids = chain_ids(config->diff_ids);
  for (size_t i = 0; i < im.layers.size(); ++i) {
    const Descriptor& layer = im.layers[i];
    auto comp = layer_compression(layer.media_type);
    if (!comp.ok()) return fail(std::move(comp).error());
    auto ld = parse_digest(layer.digest);
    if (!content_->has(*ld))
      return fail(
          Error(ErrorCode::kNotFound, "layer blob " + q(layer.digest) + " not in the store"));
    auto snap =
        snapshots_->prepare(rec.chain_ids[i], config->diff_ids[i], content_->blob_path(*ld));
    if (!snap.ok()) return fail(std::move(snap).error());
    rec.layers.push_back(ld->str());
    rec.size += layer.size;
  }
  // Storing an image that is already recorded as is (a repeated pull) rewrites nothing.
  if (auto old = content_->get_image(name); old.ok() && old->digest == rec.digest &&
                                             old->manifest_digest == rec.manifest_digest &&
                                             old->config_digest == rec.config_digest &&
                                             old->layers == rec.layers &&
                                             old->platform == rec.platform)
    return *old;
  auto st = content_->put_image(rec);
  if (!st.ok()) return fail(std::move(st).error());
  logger("image")->info("image stored name={} digest={} layers={}", name, rec.digest,
                        rec.layers.size());
  return content_->get_image(name);
}

Result<ImageRecord> ImageStore::find(const std::string& text) const {
  auto ref = parse_reference(text);
  if (ref.ok()) {
    if (!ref->tag.empty() || ref->digest.empty()) {
      auto r = content_->get_image(ref->str());
      if (r.ok() || r.error().code() != ErrorCode::kNotFound) return r;
    }
    if (!ref->digest.empty()) {  // name@sha256:…: any record of that repository with the digest
      GANTRY_ASSIGN_OR_RETURN(auto all, content_->list_images());
      for (const auto& r : all) {
        auto rr = parse_reference(r.name);
        if (rr.ok() && rr->repository() == ref->repository() &&
            (r.digest == ref->digest || r.manifest_digest == ref->digest))
          return r;
      }
    }
  }
  std::string id = text.starts_with("sha256:") ? text.substr(7) : text;
  if (id.size() >= 4 && is_hex(id)) {
    GANTRY_ASSIGN_OR_RETURN(auto all, content_->list_images());
    const ImageRecord* found = nullptr;
    for (const auto& r : all) {
      bool match = false;
      for (const auto* d : {&r.digest, &r.manifest_digest, &r.config_digest})
        match = match || d->compare(7, id.size(), id) == 0;
      if (!match) continue;
      if (found && found->config_digest != r.config_digest)
        return Error(ErrorCode::kInvalidArgument,
                     "image id " + q(text) + " is ambiguous: matches " + q(found->name) +
                         " and " + q(r.name));
      if (!found) found = &r;
    }
    if (found) return *found;
  }
  if (!ref.ok() && !(id.size() >= 4 && is_hex(id))) return std::move(ref).error();
  return Error(ErrorCode::kNotFound, "image " + q(text) + " not found");
}

Result<ImageConfig> ImageStore::config(const ImageRecord& record) const {
  GANTRY_ASSIGN_OR_RETURN(Digest d, parse_digest(record.config_digest));
  GANTRY_ASSIGN_OR_RETURN(std::string bytes, content_->read(d));
  return parse_image_config(bytes);
}

Result<std::vector<std::string>> ImageStore::lower_dirs(const ImageRecord& record) const {
  auto dirs = snapshots_->lower_dirs(record.chain_ids);
  if (!dirs.ok()) return std::move(dirs).error().with_context("image " + q(record.name));
  return dirs;
}

Result<ImageRecord> ImageStore::remove(const std::string& text) {
  GANTRY_ASSIGN_OR_RETURN(ImageRecord rec, find(text));
  GANTRY_TRY(content_->remove_image(rec.name));
  return rec;
}

Result<PruneReport> ImageStore::prune(const InUseSnapshots& in_use) {
  GANTRY_ASSIGN_OR_RETURN(UniqueFd gc, content_->lock_exclusive());
  GANTRY_ASSIGN_OR_RETURN(auto images, content_->list_images());
  std::set<std::string> keep_blobs, keep_snaps;
  if (in_use) {
    GANTRY_ASSIGN_OR_RETURN(keep_snaps, in_use());
  }
  for (const auto& r : images) {
    keep_blobs.insert({r.digest, r.manifest_digest, r.config_digest});
    keep_blobs.insert(r.layers.begin(), r.layers.end());
    keep_snaps.insert(r.chain_ids.begin(), r.chain_ids.end());
  }
  PruneReport report;
  GANTRY_ASSIGN_OR_RETURN(auto blobs, content_->list_blobs());
  for (const auto& d : blobs) {
    if (keep_blobs.count(d.str())) continue;
    auto size = content_->blob_size(d);
    GANTRY_TRY(content_->remove(d));
    report.removed_blobs.push_back(d.str());
    report.reclaimed_bytes += size.value_or(0);
  }
  GANTRY_ASSIGN_OR_RETURN(auto snaps, snapshots_->list());
  for (const auto& c : snaps) {
    if (keep_snaps.count(c)) continue;
    GANTRY_TRY(snapshots_->remove(c));
    report.removed_snapshots.push_back(c);
  }
  // With the exclusive lock held no writer is running: what is left in ingest/ is debris.
  std::string ingest = join_path(content_->root(), "ingest");
  if (auto names = list_dir(ingest); names.ok())
    for (const auto& n : *names) ::unlink(join_path(ingest, n).c_str());
  return report;
}

}  // namespace gantry::runtime::image
