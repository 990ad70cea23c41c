// Layer unpacking: one tar layer (plain, gzip or zstd, detected from the bytes) streamed from a
// file descriptor into a directory, as one overlayfs lower layer. Used by the snapshotter.
// Safe by construction against hostile layers: every entry's parent is resolved with
// openat2(RESOLVE_IN_ROOT), so `..`, absolute paths, symlinks and hardlinks can never reach
// outside the directory; final components are never followed. OCI whiteouts become overlay
// whiteouts (`.wh.x` → 0:0 char device x; `.wh..wh..opq` → trusted.overlay.opaque=y).
// Owners, modes, mtimes, xattrs, hardlinks, symlinks, devices and fifos are kept.
// Thread-compatible: separate calls are independent.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "runtime/image/layer_stream.h"

namespace gantry::runtime::image {

struct UnpackOptions {
  // Keep owners and make device nodes and whiteouts (needs root). When false (rootless),
  // files belong to the caller and device nodes are skipped.
  bool privileged = true;
};

struct UnpackStats {
  std::string diff_id;  // "sha256:…" of the uncompressed tar stream
  int64_t entries = 0;
  int64_t bytes = 0;  // file content written
  int64_t whiteouts = 0;
};

// Unpacks the layer read from `layer_fd` into the existing empty directory `dir`.
// Errors name the entry: "layer entry '../../etc/x': path leaves the layer root".
Result<UnpackStats> unpack_layer(int layer_fd, const std::string& dir,
                                 const UnpackOptions& options = {});

// The same from a layer blob as it arrives (a download): `read` gives its next chunk, "" at the
// end, and is called from the decompression thread (layer_stream.h).
Result<UnpackStats> unpack_layer_stream(const ChunkReader& read, const std::string& dir,
                                        const UnpackOptions& options = {});

}  // namespace gantry::runtime::image
