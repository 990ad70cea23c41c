#include "controller/artifacts.h"

#include "common/digest.h"
#include "common/file.h"

namespace gantry::controller {

Result<StoredArtifact> ArtifactStore::put(std::string_view data,
                                          std::string_view expected_digest) {
  std::string digest = "sha256:" + sha256_hex(data);
  if (!expected_digest.empty() && expected_digest != digest) {
    return Error(ErrorCode::kInvalidArgument,
                 "artifacts digest mismatch: header says '" + std::string(expected_digest) +
                     "', body is '" + digest + "'");
  }
  std::string dir = join_path(dir_, "sha256");
  GANTRY_TRY(make_dirs(dir, 0750));
  std::string file = join_path(dir, digest.substr(7));
  if (!path_exists(file)) GANTRY_TRY(write_file_atomic(file, data, 0640));
  return StoredArtifact{digest, data.size()};
}

Result<std::string> ArtifactStore::path(std::string_view digest) const {
  GANTRY_ASSIGN_OR_RETURN(Digest d, parse_digest(digest));
  std::string file = join_path(join_path(dir_, "sha256"), d.hex);
  if (!path_exists(file)) {
    return Error(ErrorCode::kNotFound, "artifacts '" + std::string(digest) + "' not stored");
  }
  return file;
}

}  // namespace gantry::controller
