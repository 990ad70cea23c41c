// RegistryClient: the OCI distribution protocol against one registry ("host[:port]"): the /v2/
// ping, manifests (all four media types, digest computed and checked) and blobs streamed to a
// sink, with authentication (auth.h), https with system CAs + an extra CA (plain http only when
// insecure or a loopback registry), redirects, and bounded retries with exponential backoff on
// connection errors, timeouts, 429 and 5xx; an interrupted blob resumes with a Range request.
// Errors name registry, repository and digest. Thread-safe: each thread gets its own connection.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/http/client.h"
#include "common/result.h"
#include "runtime/image/auth.h"

namespace gantry::runtime::image {

struct RetryPolicy {
  int attempts = 5;                                // tries per request, the first included
  std::chrono::milliseconds initial_backoff{200};  // doubled after each failed try
  std::chrono::milliseconds max_backoff{std::chrono::seconds(5)};
};

struct RegistryOptions {
  // Allows plain http and unverified https. Loopback registries (localhost, 127.0.0.0/8, ::1)
  // may use plain http without it, as Docker allows.
  bool insecure = false;
  std::string ca_file;  // extra trusted CA (PEM)
  std::optional<Credentials> credentials;
  RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(15)};
  std::chrono::milliseconds io_timeout{std::chrono::seconds(60)};
};

// localhost, 127.0.0.0/8 and ::1, with or without a port.
bool is_loopback_registry(std::string_view registry);

struct FetchedManifest {
  std::string bytes;
  std::string media_type;  // Content-Type as the registry sent it
  Digest digest;           // sha256 of bytes
};

// Where a blob's bytes go. on_restart is called when a retried download starts over from byte
// zero (the server ignored the Range request): the sink must drop what it got so far.
struct BlobSink {
  std::function<Status(std::string_view data)> on_data;
  std::function<Status()> on_restart;
};

class RegistryClient {
 public:
  RegistryClient(std::string registry, RegistryOptions options);
  ~RegistryClient();

  const std::string& registry() const { return registry_; }

  // GET /v2/: reachable, speaks the protocol, and (after a challenge) accepts our credentials.
  Status ping();

  // Fetches manifest `reference` (a tag or "sha256:…") of `repository` ("team/app") with an
  // Accept header naming all four manifest types. When `reference` is a digest, the bytes must
  // hash to it; a Docker-Content-Digest header that disagrees with the bytes is refused.
  Result<FetchedManifest> get_manifest(const std::string& repository, const std::string& reference);

  // Streams blob `digest` of `repository` into `sink`, following redirects. Verifying the
  // digest is the sink's job (the content store's writer does it while it writes); `size` is
  // the descriptor's size, used to resume. Errors name the registry, repository and digest.
  Status get_blob(const std::string& repository, const Digest& digest, int64_t size,
                  const BlobSink& sink);

  // HTTP requests sent so far (each try and each auth round counts; token fetches do not).
  int64_t requests_sent() const { return requests_.load(); }

 private:
  struct Call;  // one logical request with its retries
  Result<http::ClientResponse> perform(Call& call);
  std::unique_ptr<http::Client> acquire_client();
  void release_client(std::unique_ptr<http::Client> client);
  Result<std::string> base_url();
  void fall_back_to_http();

  std::string registry_;
  RegistryOptions options_;
  Authenticator auth_;
  std::mutex mu_;
  std::vector<std::unique_ptr<http::Client>> idle_clients_;  // guarded by mu_
  std::string scheme_;                                       // guarded by mu_; "" until known
  std::atomic<int64_t> requests_{0};
};

}  // namespace gantry::runtime::image
