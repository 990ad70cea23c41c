// ApiTransport: how the agent and the client commands (`gantry project/pipeline/job/agent`) reach
// a Gantry controller: one request to a path under the controller URL with the bearer token,
// the answer back as status, headers and body (docs/api.md). HttpApiTransport is the real one over
// common/http/client; tests use fakes. api_error() turns a non-2xx answer into an Error with the
// controller's own message ({"error": …, "code": …}). HttpApiTransport is thread-safe: it keeps a
// small pool of HTTP clients (each with its kept-alive connection), one per concurrent call.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/message.h"
#include "common/json.h"
#include "common/result.h"

namespace gantry::http {
class Client;
}

namespace gantry::agent {

struct ApiRequest {
  std::string method = "GET";
  std::string path;  // "/api/v1/…" with its query
  std::string body;
  std::string content_type = "application/json";
  std::string body_file;      // when set, the body is streamed from this file
  std::string response_file;  // when set, a 2xx body is streamed into this file (created 0600)
  http::Headers headers;      // extra headers (Authorization is added)
  // A long-poll is held by the controller for up to its `wait`; allow that much more.
  std::chrono::milliseconds extra_time{0};
};

struct ApiResponse {
  int status = 0;
  http::Headers headers;
  std::string body;
};

class ApiTransport {
 public:
  virtual ~ApiTransport() = default;
  // Transport errors only (kUnavailable, kDeadlineExceeded, …, naming the URL); any HTTP status
  // is a response.
  virtual Result<ApiResponse> send(const ApiRequest& request) = 0;
  // The controller URL, for messages ("http://127.0.0.1:8080").
  virtual std::string base_url() const = 0;
};

struct HttpTransportOptions {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds io_timeout{std::chrono::seconds(60)};
  std::string ca_file;
};

class HttpApiTransport : public ApiTransport {
 public:
  // `base_url`: "http(s)://host[:port][/prefix]"; kInvalidArgument names a malformed one.
  static Result<std::unique_ptr<HttpApiTransport>> create(std::string base_url, std::string token,
                                                          HttpTransportOptions options = {});
  ~HttpApiTransport() override;

  Result<ApiResponse> send(const ApiRequest& request) override;
  std::string base_url() const override { return base_url_; }
  void set_token(std::string token);

 private:
  HttpApiTransport(std::string base_url, std::string token, HttpTransportOptions options);
  std::unique_ptr<http::Client> acquire();
  void release(std::unique_ptr<http::Client> client);

  const std::string base_url_;
  const HttpTransportOptions options_;
  std::mutex mu_;
  std::string token_;
  std::vector<std::unique_ptr<http::Client>> idle_;
};

// The ErrorCode for an HTTP status: 400 invalid argument, 401 unauthenticated, 403 permission
// denied, 404 not found, 409 failed precondition, 413 resource exhausted, 5xx unavailable
// (502–504) or internal.
ErrorCode error_code_for_status(int status);

// An Error for a non-2xx answer: the controller's "error" message when the body has one, else
// "<status> <reason>" and the start of the body.
Error api_error(const ApiResponse& response);

// The "code" field of an error answer ("offset_mismatch", "stale_attempt"), or "".
std::string api_error_code(const ApiResponse& response);

// Sends a JSON call and returns the answer's JSON (null for an empty 2xx body). Non-2xx answers
// become api_error(); `what` prefixes every error ("list projects").
Result<Json> call_json(ApiTransport& transport, std::string_view what, std::string method,
                       std::string path, const Json* body = nullptr);

}  // namespace gantry::agent
