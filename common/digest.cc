#include "common/digest.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include "common/sha1.h"
#include "common/unique_fd.h"

namespace gantry {

struct Sha256::State {
  EVP_MD_CTX* ctx = nullptr;
  ~State() {
    if (ctx != nullptr) EVP_MD_CTX_free(ctx);
  }
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  GANTRY_CHECK(state_->ctx != nullptr);
  GANTRY_CHECK(EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr) == 1);
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, size_t size) {
  GANTRY_CHECK(EVP_DigestUpdate(state_->ctx, data, size) == 1);
}

std::array<uint8_t, 32> Sha256::finish() {
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  GANTRY_CHECK(EVP_DigestFinal_ex(state_->ctx, out.data(), &len) == 1 && len == 32);
  return out;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  GANTRY_CHECK(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                    reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
                    &len) != nullptr);
  return to_hex(out, len);
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Sha256::finish_hex() {
  auto d = finish();
  return to_hex(d.data(), d.size());
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish_hex();
}

std::string sha1_hex(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  GANTRY_CHECK(EVP_Digest(data.data(), data.size(), out, &len, EVP_sha1(), nullptr) == 1);
  return to_hex(out, len);
}

Result<std::string> sha256_file_hex(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error("open '" + path + "'");
  Sha256 h;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read '" + path + "'");
    }
    if (n == 0) break;
    h.update(buf, static_cast<size_t>(n));
  }
  return h.finish_hex();
}

Result<Digest> parse_digest(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos)
    return Error(ErrorCode::kInvalidArgument,
                 "digest '" + std::string(text) + "': expected 'sha256:<hex>'");
  std::string_view algo = text.substr(0, colon), hex = text.substr(colon + 1);
  if (algo != "sha256")
    return Error(ErrorCode::kUnimplemented,
                 "digest '" + std::string(text) + "': unsupported algorithm '" +
                     std::string(algo) + "'");
  bool good = hex.size() == 64;
  for (char c : hex) good = good && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!good)
    return Error(ErrorCode::kInvalidArgument,
                 "digest '" + std::string(text) + "': expected 64 lowercase hex digits");
  return Digest{std::string(algo), std::string(hex)};
}

}  // namespace gantry
