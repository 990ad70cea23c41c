// LayerTar: builds image layer tarballs in memory with libarchive's writer, for tests of layer
// unpacking, snapshots and image import/load. Entries are written in the order added, with
// fixed times so the output is deterministic; any path is allowed (hostile ones included).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/image/manifest.h"

namespace gantry::testing {

class LayerTar {
 public:
  struct Entry {
    char type;  // 'd' dir, 'f' file, 'l' symlink, 'h' hardlink, 'c'/'b' device, 'p' fifo
    std::string path;
    std::string data;  // file content, or link target
    uint32_t mode = 0;
    uint32_t uid = 0, gid = 0;
    uint32_t major = 0, minor = 0;
    int64_t mtime = 1700000000;
    std::map<std::string, std::string> xattrs;
  };

  LayerTar& dir(const std::string& path, uint32_t mode = 0755, uint32_t uid = 0, uint32_t gid = 0);
  LayerTar& file(const std::string& path, const std::string& data, uint32_t mode = 0644,
                 uint32_t uid = 0, uint32_t gid = 0);
  LayerTar& symlink(const std::string& path, const std::string& target);
  LayerTar& hardlink(const std::string& path, const std::string& target);
  LayerTar& device(const std::string& path, char type, uint32_t major, uint32_t minor);
  LayerTar& fifo(const std::string& path);
  // `.wh.<name>` beside `path`'s name, and `<dir>/.wh..wh..opq`.
  LayerTar& whiteout(const std::string& path);
  LayerTar& opaque(const std::string& dir);
  // Sets an xattr on the last entry added.
  LayerTar& xattr(const std::string& name, const std::string& value);
  // Sets the mtime of the last entry added.
  LayerTar& mtime(int64_t t);

  // The archive bytes, compressed as asked.
  std::string build(runtime::image::Compression c = runtime::image::Compression::kNone) const;
  // "sha256:…" of the uncompressed tar.
  std::string diff_id() const;

 private:
  std::vector<Entry> entries_;
};

}  // namespace gantry::testing
