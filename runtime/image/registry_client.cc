#include "runtime/image/registry_client.h"

#include <algorithm>
#include <thread>

#include "common/json.h"
#include "common/logging.h"
#include "runtime/image/manifest.h"

namespace gantry::runtime::image {

namespace {

bool retryable(ErrorCode code) {
  return code == ErrorCode::kUnavailable || code == ErrorCode::kDeadlineExceeded;
}

bool retryable_status(int status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

// "BLOB_UNKNOWN: blob unknown to registry" from the distribution error body, else its text.
std::string registry_error_detail(const std::string& body) {
  auto doc = parse_json(body, "error body");
  if (doc.ok() && doc->is_object()) {
    auto errors = doc->find("errors");
    if (errors != doc->end() && errors->is_array() && !errors->empty()) {
      const Json& first = (*errors)[0];
      std::string code = first.value("code", "");
      std::string message = first.value("message", "");
      if (!code.empty() || !message.empty()) {
        return code.empty() ? message : message.empty() ? code : code + ": " + message;
      }
    }
  }
  std::string text = body.substr(0, 200);
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

std::string with_detail(std::string message, const std::string& body) {
  std::string detail = registry_error_detail(body);
  if (!detail.empty()) message += ": " + detail;
  return message;
}

std::string strip_params(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  return std::string(content_type);
}

}  // namespace

bool is_loopback_registry(std::string_view registry) {
  std::string_view host = registry;
  if (!host.empty() && host[0] == '[') {
    host = host.substr(1, host.find(']') - 1);
    return host == "::1";
  }
  host = host.substr(0, host.find(':'));
  if (host == "localhost") return true;
  if (host.rfind("127.", 0) != 0) return false;
  return std::all_of(host.begin(), host.end(),
                     [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

struct RegistryClient::Call {
  std::string method = "GET";
  std::string repository;  // "" for the ping
  std::string path;        // "/v2/…"
  http::Headers headers;
  std::string what;  // "fetch manifest 'latest'"
  const BlobSink* sink = nullptr;
  size_t max_body = 4 << 20;
  int64_t delivered = 0;  // blob bytes given to the sink
};

RegistryClient::RegistryClient(std::string registry, RegistryOptions options)
    : registry_(std::move(registry)),
      options_(std::move(options)),
      auth_(registry_, options_.credentials) {}

RegistryClient::~RegistryClient() = default;

std::unique_ptr<http::Client> RegistryClient::acquire_client() {
  {
    std::lock_guard lock(mu_);
    if (!idle_clients_.empty()) {
      auto c = std::move(idle_clients_.back());
      idle_clients_.pop_back();
      return c;
    }
  }
  http::ClientOptions o;
  o.connect_timeout = options_.connect_timeout;
  o.io_timeout = options_.io_timeout;
  o.ca_file = options_.ca_file;
  o.tls_verify = !options_.insecure;
  return std::make_unique<http::Client>(o);
}

void RegistryClient::release_client(std::unique_ptr<http::Client> client) {
  std::lock_guard lock(mu_);
  idle_clients_.push_back(std::move(client));
}

Result<std::string> RegistryClient::base_url() {
  std::lock_guard lock(mu_);
  if (scheme_.empty()) scheme_ = "https";
  return scheme_ + "://" + registry_;
}

void RegistryClient::fall_back_to_http() {
  std::lock_guard lock(mu_);
  if (scheme_ != "http") {
    logger("image")->debug("registry speaks plain http registry={}", registry_);
  }
  scheme_ = "http";
}

Result<http::ClientResponse> RegistryClient::perform(Call& call) {
  std::string scope = call.repository.empty() ? "" : "repository:" + call.repository + ":pull";
  std::string target = registry_ + (call.repository.empty() ? "" : "/" + call.repository);
  std::string context = call.what + " from '" + target + "'";
  auto client = acquire_client();
  struct Release {
    RegistryClient* self;
    std::unique_ptr<http::Client>& c;
    ~Release() { self->release_client(std::move(c)); }
  } release{this, client};

  bool plain_allowed = options_.insecure || is_loopback_registry(registry_);
  int auth_rounds = 0;
  auto backoff = options_.retry.initial_backoff;
  int attempts = std::max(1, options_.retry.attempts);
  for (int attempt = 1;;) {
    GANTRY_ASSIGN_OR_RETURN(std::string base, base_url());
    http::ClientRequest req{
        .method = call.method, .url = base + call.path, .headers = call.headers};
    if (std::string authz = auth_.authorization(scope); !authz.empty()) {
      req.headers.set("Authorization", authz);
    }
    bool sink_failed = false;
    Result<http::ClientResponse> resp = Error(ErrorCode::kInternal, "not sent");
    ++requests_;
    if (call.sink != nullptr) {
      if (call.delivered > 0) {
        req.headers.set("Range", "bytes=" + std::to_string(call.delivered) + "-");
      }
      http::BodySink wrapped;
      wrapped.on_head = [&](const http::ClientResponse& head) -> Status {
        if (head.status == 206) {
          std::string range = head.headers.get("Content-Range").value_or("");
          std::string want = "bytes " + std::to_string(call.delivered) + "-";
          if (range.rfind(want, 0) != 0) {
            sink_failed = true;
            return Error(ErrorCode::kUnavailable, context + ": resumed download got range '" +
                                                      range + "', wanted '" + want + "…'");
          }
        } else if (head.status == 200 && call.delivered > 0) {
          call.delivered = 0;
          if (call.sink->on_restart) {
            Status st = call.sink->on_restart();
            if (!st.ok()) sink_failed = true;
            return st;
          }
        }
        return ok_status();
      };
      wrapped.on_data = [&](std::string_view data) -> Status {
        Status st = call.sink->on_data(data);
        if (!st.ok()) {
          sink_failed = true;
          return st;
        }
        call.delivered += static_cast<int64_t>(data.size());
        return ok_status();
      };
      resp = client->stream(req, wrapped);
    } else {
      resp = client->send(req, call.max_body);
    }

    Error failure(ErrorCode::kInternal, "");
    if (!resp.ok()) {
      if (sink_failed) return std::move(resp).error();
      if (plain_allowed && base.rfind("https://", 0) == 0 &&
          http::is_tls_handshake_error(resp.error())) {
        fall_back_to_http();
        --requests_;  // a refused TLS handshake, not an HTTP request
        continue;     // not a failed try: the registry speaks plain http
      }
      if (!retryable(resp.error().code())) return std::move(resp).error().with_context(context);
      failure = std::move(resp).error();
    } else if (resp->status == 401) {
      if (auth_rounds++ == 0) {
        GANTRY_TRY(auth_.on_unauthorized(*client, *resp, scope, call.repository));
        continue;
      }
      std::string who = options_.credentials ? "the registry refused the credentials of user '" +
                                                   options_.credentials->username + "'"
                                             : "the registry refused anonymous access";
      return Error(ErrorCode::kUnauthenticated,
                   with_detail("authentication failed for '" + target + "': " + who, resp->body));
    } else if (retryable_status(resp->status)) {
      failure = Error(ErrorCode::kUnavailable,
                      with_detail("registry answered " + std::to_string(resp->status), resp->body));
    } else {
      return resp;
    }

    if (attempt >= attempts) {
      return std::move(failure).with_context(context + ": gave up after " +
                                             std::to_string(attempts) + " attempts");
    }
    logger("image")->info("retrying request registry={} what=\"{}\" attempt={} error=\"{}\"",
                          registry_, call.what, attempt + 1, failure.message());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, options_.retry.max_backoff);
    ++attempt;
  }
}

Status RegistryClient::ping() {
  Call call{.path = "/v2/", .what = "ping"};
  call.max_body = 64 << 10;
  GANTRY_ASSIGN_OR_RETURN(http::ClientResponse resp, perform(call));
  if (resp.status != 200) {
    return Error(resp.status == 404 ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
                 with_detail("ping '" + registry_ + "': answered " + std::to_string(resp.status) +
                                 " (not an OCI distribution registry?)",
                             resp.body));
  }
  return ok_status();
}

Result<FetchedManifest> RegistryClient::get_manifest(const std::string& repository,
                                                     const std::string& reference) {
  Call call{.repository = repository,
            .path = "/v2/" + repository + "/manifests/" + reference,
            .what = "fetch manifest '" + reference + "'"};
  call.headers.set("Accept", manifest_accept_header());
  std::string target = registry_ + "/" + repository;
  GANTRY_ASSIGN_OR_RETURN(http::ClientResponse resp, perform(call));
  if (resp.status == 404) {
    return Error(
        ErrorCode::kNotFound,
        with_detail("manifest '" + reference + "' not found in '" + target + "'", resp.body));
  }
  if (resp.status != 200) {
    ErrorCode code = resp.status == 403 ? ErrorCode::kPermissionDenied : ErrorCode::kUnavailable;
    return Error(code, with_detail("fetch manifest '" + reference + "' from '" + target +
                                       "': registry answered " + std::to_string(resp.status),
                                   resp.body));
  }
  FetchedManifest out;
  out.digest = Digest{"sha256", sha256_hex(resp.body)};
  out.media_type = strip_params(resp.headers.get("Content-Type").value_or(""));
  out.bytes = std::move(resp.body);
  auto mismatch = [&](const std::string& claimed) {
    return Error(ErrorCode::kInvalidArgument, "manifest '" + reference + "' from '" + target +
                                                  "': digest mismatch: expected '" + claimed +
                                                  "', got '" + out.digest.str() + "'");
  };
  if (reference.find(':') != std::string::npos) {
    GANTRY_ASSIGN_OR_RETURN(Digest want, parse_digest(reference));
    if (!(want == out.digest)) return mismatch(want.str());
  }
  if (auto header = resp.headers.get("Docker-Content-Digest"); header && !header->empty()) {
    auto claimed = parse_digest(*header);
    if (claimed.ok() && !(*claimed == out.digest)) return mismatch(claimed->str());
  }
  return out;
}

Status RegistryClient::get_blob(const std::string& repository, const Digest& digest, int64_t size,
                                const BlobSink& sink) {
  (void)size;  // the sink (content store writer) checks it; resuming goes by bytes delivered
  Call call{.repository = repository,
            .path = "/v2/" + repository + "/blobs/" + digest.str(),
            .what = "fetch blob '" + digest.str() + "'",
            .sink = &sink};
  std::string target = registry_ + "/" + repository;
  GANTRY_ASSIGN_OR_RETURN(http::ClientResponse resp, perform(call));
  if (resp.status == 200 || resp.status == 206) return ok_status();
  if (resp.status == 404) {
    return Error(
        ErrorCode::kNotFound,
        with_detail("blob '" + digest.str() + "' not found in '" + target + "'", resp.body));
  }
  ErrorCode code = resp.status == 403 ? ErrorCode::kPermissionDenied : ErrorCode::kUnavailable;
  return Error(code, with_detail("fetch blob '" + digest.str() + "' from '" + target +
                                     "': registry answered " + std::to_string(resp.status),
                                 resp.body));
}

}  // namespace gantry::runtime::image
