#include "agent/remote/api_transport.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/http/client.h"
#include "common/unique_fd.h"

namespace gantry::agent {

Result<std::unique_ptr<HttpApiTransport>> HttpApiTransport::create(std::string base_url,
                                                                   std::string token,
                                                                   HttpTransportOptions options) {
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  if (base_url.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "no controller URL: pass --controller URL or set GANTRY_CONTROLLER");
  }
  auto url = http::parse_url(base_url);
  if (!url.ok()) {
    return Error(ErrorCode::kInvalidArgument,
                 "controller URL '" + base_url + "': " + url.error().message());
  }
  return std::unique_ptr<HttpApiTransport>(
      new HttpApiTransport(std::move(base_url), std::move(token), std::move(options)));
}

HttpApiTransport::HttpApiTransport(std::string base_url, std::string token,
                                   HttpTransportOptions options)
    : base_url_(std::move(base_url)), options_(std::move(options)), token_(std::move(token)) {}

HttpApiTransport::~HttpApiTransport() = default;

void HttpApiTransport::set_token(std::string token) {
  std::lock_guard lock(mu_);
  token_ = std::move(token);
}

std::unique_ptr<http::Client> HttpApiTransport::acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  http::ClientOptions o;
  o.connect_timeout = options_.connect_timeout;
  o.io_timeout = options_.io_timeout;
  o.ca_file = options_.ca_file;
  o.max_redirects = 0;  // the API never redirects; a redirect would carry the token elsewhere
  return std::make_unique<http::Client>(o);
}

void HttpApiTransport::release(std::unique_ptr<http::Client> client) {
  std::lock_guard lock(mu_);
  if (idle_.size() < 16) idle_.push_back(std::move(client));
}

Result<ApiResponse> HttpApiTransport::send(const ApiRequest& request) {
  http::ClientRequest req;
  req.method = request.method;
  req.url = base_url_ + request.path;
  req.headers = request.headers;
  {
    std::lock_guard lock(mu_);
    if (!token_.empty()) req.headers.set("Authorization", "Bearer " + token_);
  }
  if (!request.body.empty() || !request.body_file.empty() || request.method == "POST" ||
      request.method == "PUT" || request.method == "PATCH") {
    req.headers.set("Content-Type", request.content_type);
  }
  req.headers.set("Accept", "application/json");
  req.body = request.body;
  req.body_file = request.body_file;

  auto client = acquire();
  Result<http::ClientResponse> resp = Error(ErrorCode::kInternal, "unset");
  if (request.extra_time.count() > 0) {
    // A long-poll: a client of its own with a longer read timeout, not returned to the pool.
    http::ClientOptions o;
    o.connect_timeout = options_.connect_timeout;
    o.io_timeout = options_.io_timeout + request.extra_time;
    o.ca_file = options_.ca_file;
    o.max_redirects = 0;
    client = std::make_unique<http::Client>(o);
  }
  if (request.response_file.empty()) {
    resp = client->send(req);
  } else {
    UniqueFd fd;
    http::BodySink sink;
    sink.on_head = [&](const http::ClientResponse& head) -> Status {
      if (head.status < 200 || head.status > 299) return ok_status();
      fd.reset(::open(request.response_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                      0600));
      if (!fd) return sys_error("create '" + request.response_file + "'");
      return ok_status();
    };
    sink.on_data = [&](std::string_view data) -> Status {
      while (!data.empty()) {
        ssize_t n = ::write(fd.get(), data.data(), data.size());
        if (n < 0) {
          if (errno == EINTR) continue;
          return sys_error("write '" + request.response_file + "'");
        }
        data.remove_prefix(static_cast<size_t>(n));
      }
      return ok_status();
    };
    resp = client->stream(req, sink);
  }
  if (!resp.ok()) return std::move(resp).error();  // the client is dropped with its connection
  if (request.extra_time.count() == 0) release(std::move(client));
  return ApiResponse{resp->status, std::move(resp->headers), std::move(resp->body)};
}

ErrorCode error_code_for_status(int status) {
  switch (status) {
    case 400: return ErrorCode::kInvalidArgument;
    case 401: return ErrorCode::kUnauthenticated;
    case 403: return ErrorCode::kPermissionDenied;
    case 404: return ErrorCode::kNotFound;
    case 405: return ErrorCode::kUnimplemented;
    case 409: return ErrorCode::kFailedPrecondition;
    case 413: case 431: return ErrorCode::kResourceExhausted;
    case 502: case 503: case 504: return ErrorCode::kUnavailable;
    default: return status >= 500 ? ErrorCode::kInternal : ErrorCode::kInvalidArgument;
  }
}

namespace {

Json error_body(const ApiResponse& response) {
  if (response.body.empty()) return Json();
  Json j = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : Json();
}

}  // namespace

Error api_error(const ApiResponse& response) {
  Json j = error_body(response);
  std::string message;
  if (j.is_object() && j.contains("error") && j["error"].is_string()) {
    message = j["error"].get<std::string>();
  } else {
    message =
        std::to_string(response.status) + " " + std::string(http::reason_phrase(response.status));
    std::string body = response.body.substr(0, 200);
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    if (!body.empty()) message += ": " + body;
  }
  if (response.status == 401) {
    message = "the controller refused the token (401 unauthorized): check --token or GANTRY_TOKEN";
  }
  return Error(error_code_for_status(response.status), std::move(message));
}

std::string api_error_code(const ApiResponse& response) {
  Json j = error_body(response);
  if (j.is_object() && j.contains("code") && j["code"].is_string())
    return j["code"].get<std::string>();
  return "";
}

Result<Json> call_json(ApiTransport& transport, std::string_view what, std::string method,
                       std::string path, const Json* body) {
  ApiRequest req;
  req.method = std::move(method);
  req.path = std::move(path);
  if (body != nullptr) req.body = body->dump();
  auto resp = transport.send(req);
  if (!resp.ok()) return std::move(resp).error().with_context(what);
  if (resp->status < 200 || resp->status > 299) return api_error(*resp).with_context(what);
  if (resp->body.empty()) return Json();
  auto j = parse_json(resp->body, "controller answer");
  if (!j.ok()) return std::move(j).error().with_context(what);
  return j;
}

}  // namespace gantry::agent
