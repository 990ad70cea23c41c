// Streaming SHA-256 (OpenSSL EVP) and content digests in OCI form ("sha256:<64 hex>").
// Used by the content store to verify blobs while they stream, and for chain ids.
// A Sha256 object is single-threaded; separate objects are independent.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/hex.h"
#include "common/result.h"

namespace gantry {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // Finishes the hash; the object must not be updated afterwards.
  std::array<uint8_t, 32> finish();
  std::string finish_hex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string sha256_hex(std::string_view data);
// HMAC-SHA256 of `data` with `key`, as lowercase hex (GitHub's X-Hub-Signature-256).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Compares two secrets in time that depends only on their lengths, not on where they differ.
bool constant_time_equals(std::string_view a, std::string_view b);

// sha256 of a file's contents, streamed.
Result<std::string> sha256_file_hex(const std::string& path);

// A digest "algorithm:hex", validated: only sha256 with 64 lowercase hex digits is accepted.
struct Digest {
  std::string algorithm;  // "sha256"
  std::string hex;
  std::string str() const { return algorithm + ":" + hex; }
  bool operator==(const Digest&) const = default;
};
Result<Digest> parse_digest(std::string_view text);

}  // namespace gantry
