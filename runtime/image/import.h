// Getting images without a registry: `gantry image import` turns a root filesystem (a directory
// or a tarball, compressed or not) into a one-layer image with a proper OCI config, and
// `gantry image load` reads an OCI image layout (directory or tar) or a `docker save` archive.
// This is how an offline machine gets its first image. Every blob goes through the content
// store's verification; layers are streamed, never held in memory. Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "runtime/image/image_store.h"

namespace gantry::runtime::image {

struct ImportOptions {
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  std::vector<std::string> cmd;  // empty: none ("/bin/sh" is not assumed)
  std::vector<std::string> entrypoint;     // empty: none
  std::vector<std::string> exposed_ports;  // "6379/tcp" or "6379" (tcp), as Dockerfile EXPOSE
  std::string working_dir;
  std::string user;
};

// Imports `source` (a directory, or a tar/tar.gz/tar.zst file) as image `name`
// (a Reference::str()). The layer is stored gzip-compressed.
Result<ImageRecord> import_rootfs(ImageStore& store, const std::string& source,
                                  const std::string& name, const ImportOptions& options = {});

// Loads every named image of an OCI image layout (a directory with oci-layout and index.json,
// or a tar of one) or of a `docker save` tar (manifest.json with RepoTags). Images are chosen
// for `platform` when the layout holds an index. `name` overrides the name of a layout that
// holds exactly one image (OCI layouts often carry just a tag, or no name).
Result<std::vector<ImageRecord>> load_images(ImageStore& store, const std::string& source,
                                             const Platform& platform,
                                             const std::string& name = "");

}  // namespace gantry::runtime::image
