// Image references: `[registry[:port]/]path[:tag][@sha256:<hex>]` parsed with Docker's rules
// (distribution/reference "normalized named"): a bare `alpine` is
// `docker.io/library/alpine:latest`, the first component is a registry only if it has a '.' or ':'
// or is `localhost`. Used by the image commands, the puller and the image store (records are keyed
// by str()). PURE: no I/O; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace gantry::runtime::image {

constexpr std::string_view kDefaultDomain = "docker.io";
constexpr std::string_view kDefaultTag = "latest";

struct Reference {
  std::string domain;  // "docker.io", "localhost:5000", "[::1]:5000"
  std::string path;    // "library/alpine", "team/app"
  std::string tag;     // "latest" when neither tag nor digest was given; "" if digest only
  std::string digest;  // "sha256:<64 hex>" or ""

  // "docker.io/library/alpine"
  std::string repository() const;
  // The canonical full form: repository[:tag][@digest]. The image store keys records by it.
  std::string str() const;
  // Docker's short form: "alpine:latest", "team/app:1", "localhost:5000/x@sha256:…".
  std::string familiar() const;
  // The host[:port] to contact: "registry-1.docker.io" for docker.io, else `domain`.
  std::string registry_host() const;
  bool operator==(const Reference&) const = default;
};

// Parses and normalizes `text`. Errors (kInvalidArgument) say what is wrong and where:
//   "image reference 'Alpine': repository name must be lowercase".
Result<Reference> parse_reference(std::string_view text);

}  // namespace gantry::runtime::image
