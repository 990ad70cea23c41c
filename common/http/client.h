// HTTP/1.1 client: GET/HEAD/POST/PUT/PATCH/DELETE over plain TCP or TLS (OpenSSL; system CAs plus
// an optional extra CA file, SNI, hostname or IP verification). Follows redirects (absolute and
// relative, to other hosts, dropping Authorization when the origin changes), keeps one connection
// per origin alive for reuse, streams response bodies to a sink or collects them under a cap,
// sends request bodies from memory or a file. Boost.Beast lives only in client.cc.
// A Client is not thread-safe; use one per thread (connections belong to their Client).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/http/message.h"
#include "common/result.h"

namespace gantry::http {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(15)};  // incl. TLS handshake
  // A read or write that makes no progress for this long fails the request (kDeadlineExceeded).
  std::chrono::milliseconds io_timeout{std::chrono::seconds(60)};
  std::string ca_file;     // extra trusted CA certificates (PEM), on top of the system's
  bool tls_verify = true;  // false skips certificate checks (only for explicit --insecure)
  int max_redirects = 10;
  size_t max_header_bytes = 64 * 1024;
  std::string user_agent = "gantry/0.1";
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // absolute http(s) URL
  Headers headers;  // Host, User-Agent and Content-Length are added
  std::string body;
  std::string body_file;  // when set, the body is streamed from this file instead of `body`
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;       // empty when streamed to a sink
  std::string final_url;  // the URL that answered, after redirects
};

// Receives the body of a streamed response. on_head sees the final response's status and
// headers first (may be empty); on_data gets the body of a 2xx response in pieces. An error from
// either aborts the request and is returned as is.
struct BodySink {
  std::function<Status(const ClientResponse& head)> on_head;
  std::function<Status(std::string_view data)> on_data;
};

// Whether `error` came from a failed TLS handshake other than certificate verification (e.g. the
// server speaks plain HTTP). Registry clients use it to fall back to http where allowed.
bool is_tls_handshake_error(const Error& error);

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `request`, follows redirects and returns the final response with its body collected.
  // A body over `max_body` bytes fails with kResourceExhausted. Transport errors: kUnavailable
  // (connect/reset/closed early), kDeadlineExceeded (timeouts), kFailedPrecondition (TLS
  // verification), kInvalidArgument (bad URL or body file); each names the URL.
  Result<ClientResponse> send(const ClientRequest& request, size_t max_body = 16 << 20);

  // Like send(), but the body of a 2xx final response goes to `sink` as it arrives and is never
  // held whole; for other statuses up to 64 KiB of body is collected into the response instead
  // (for error messages) and on_data is not called.
  Result<ClientResponse> stream(const ClientRequest& request, const BodySink& sink);

  // Closes every kept-alive connection.
  void close_connections();

 private:
  struct State;  // client.cc: io_context, TLS context, connection pool
  std::unique_ptr<State> state_;
};

}  // namespace gantry::http
