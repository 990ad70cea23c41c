// Snapshotter: each layer unpacked once into <root>/snapshots/<chain-hex>/, shared by every
// image that has it; an overlay of an image's snapshots (lowest first) is the image's root.
//   <root>/snapshots/<chain-hex>/         a finished snapshot (an overlayfs lowerdir)
//   <root>/snapshots/.tmp-<chain-hex>-*   one being unpacked; renamed into place when done
//   <root>/snapshots/.locks/<chain-hex>   flock per chain id while unpacking
// A layer is unpacked into a temp dir and renamed only when complete and its diff id matched,
// so a present snapshot is always whole. Thread-safe and multi-process safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "runtime/image/unpack.h"

namespace gantry::runtime::image {

class Snapshotter {
 public:
  // Opens (creating as needed) <root>/snapshots; removes temp dirs left by crashed unpacks.
  static Result<std::shared_ptr<Snapshotter>> open(const std::string& root,
                                                   UnpackOptions options = {});

  // The directory of snapshot `chain_id` ("sha256:…"), whether or not it exists.
  std::string path(const std::string& chain_id) const;
  bool has(const std::string& chain_id) const;

  // Makes snapshot `chain_id` from the layer blob at `layer_path` unless it exists already
  // (blocks while another process unpacks the same one). The uncompressed stream must hash to
  // `diff_id`, else nothing is kept: "layer 'sha256:…': diff id mismatch: got 'sha256:…'".
  // Returns the snapshot directory.
  Result<std::string> prepare(const std::string& chain_id, const std::string& diff_id,
                              const std::string& layer_path);
  // The same from a layer blob as it arrives: `read` gives its chunks ("" at the end; an error
  // aborts). The caller must end the stream only once the blob itself is verified: the snapshot
  // is renamed into place as soon as the stream ends and the diff id matches. With `wait`
  // false, a snapshot another process is unpacking is kUnavailable at once.
  Result<std::string> prepare_from(const std::string& chain_id, const std::string& diff_id,
                                   const ChunkReader& read, bool wait);

  // The overlay lowerdirs for an image, lowest first; kNotFound names a missing snapshot.
  Result<std::vector<std::string>> lower_dirs(const std::vector<std::string>& chain_ids) const;

  Status remove(const std::string& chain_id);
  // Chain ids ("sha256:…") of the finished snapshots.
  Result<std::vector<std::string>> list() const;

 private:
  Snapshotter(std::string dir, UnpackOptions options)
      : dir_(std::move(dir)), options_(options) {}
  std::string dir_;
  UnpackOptions options_;
};

}  // namespace gantry::runtime::image
