// Boost.Beast + OpenSSL adapter for common/http/client.h. Every network operation is started
// asynchronously on the Client's private io_context and run to completion right away, which
// gives per-operation timeouts (beast::tcp_stream) while the API stays blocking.
#include "common/http/client.h"

#include <dirent.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdlib>
#include <exception>
#include <limits>
#include <map>
#include <optional>
#include <vector>

namespace gantry::http {

namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;

constexpr size_t kReadChunk = 256 * 1024;
constexpr size_t kErrorBodyCap = 64 * 1024;
constexpr size_t kRedirectBodyCap = 1 << 20;

std::string lower_first(std::string s) {
  if (s.size() > 1 && s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z')) {
    s[0] = static_cast<char>(s[0] - 'A' + 'a');
  }
  return s;
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// OpenSSL's default CA directory (or $SSL_CERT_DIR) when it holds hashed names ("1a2b3c4d.0"),
// as Debian's ca-certificates makes it; "" when $SSL_CERT_FILE asks for a bundle or the
// directory is not hashed, and the default paths (bundle file included) are to be loaded.
std::string hashed_ca_dir() {
  if (std::getenv(X509_get_default_cert_file_env()) != nullptr) return "";
  const char* env_dir = std::getenv(X509_get_default_cert_dir_env());
  std::string dir = env_dir != nullptr ? env_dir : X509_get_default_cert_dir();
  if (dir.empty() || dir.find(':') != std::string::npos) return "";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return "";
  bool hashed = false;
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n.size() >= 10 && n[8] == '.' &&
        n.substr(0, 8).find_first_not_of("0123456789abcdef") == std::string_view::npos) {
      hashed = true;
      break;
    }
  }
  ::closedir(d);
  return hashed ? dir : "";
}

struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool used = false;  // has completed at least one exchange

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

// Where an exchange failed, so a stale kept-alive connection can be retried safely.
struct ExchangeFailure {
  bool before_response = false;  // nothing of the response was received
};

}  // namespace

struct Client::State {
  ClientOptions options;
  net::io_context ioc;
  std::optional<ssl::context> tls_ctx;
  bool system_cas_loaded = false;  // by the first certificate verification
  std::map<std::string, std::unique_ptr<Connection>> connections;  // by origin

  explicit State(ClientOptions o) : options(std::move(o)) {}

  // Runs one asynchronous operation to completion on ioc; returns its error.
  template <class Initiate>
  error_code run(Initiate&& initiate) {
    error_code result;
    bool done = false;
    initiate([&](error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc.restart();
    while (!done) {
      if (ioc.run_one() == 0) break;
    }
    if (!done) return net::error::operation_aborted;
    return result;
  }

  Error transport_error(std::string_view what, const Url& url, error_code ec, SSL* ssl = nullptr) {
    std::string prefix = std::string(what) + " '" + url.str() + "'";
    if (ec == beast::error::timeout) {
      return Error(ErrorCode::kDeadlineExceeded, prefix + ": timed out");
    }
    if (ssl != nullptr) {
      long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK) {
        return Error(ErrorCode::kFailedPrecondition, prefix +
                                                         ": tls certificate verification failed: " +
                                                         X509_verify_cert_error_string(verify));
      }
    }
    if (ec.category() == net::error::get_ssl_category() ||
        ec.category() == net::ssl::error::get_stream_category()) {
      return Error(ErrorCode::kUnavailable, prefix + ": tls: " + lower_first(ec.message()));
    }
    return Error(ErrorCode::kUnavailable, prefix + ": " + lower_first(ec.message()));
  }

  static int verify_with_system_cas(X509_STORE_CTX* store_ctx, void* arg) {
    auto* self = static_cast<State*>(arg);
    if (!self->system_cas_loaded) {
      self->system_cas_loaded = true;
      X509_STORE* store = X509_STORE_CTX_get0_store(store_ctx);
      // A hashed directory is read one issuer at a time; else the default bundle and dir.
      std::string dir = hashed_ca_dir();
      int ok = dir.empty() ? X509_STORE_set_default_paths(store)
                           : X509_STORE_load_path(store, dir.c_str());
      if (ok != 1) {
        X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_UNSPECIFIED);
        return 0;
      }
    }
    return X509_verify_cert(store_ctx);
  }

  Result<ssl::context*> tls_context() {
    if (tls_ctx) return &*tls_ctx;
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    error_code ec;
    if (options.tls_verify) {
      // The system CAs are loaded when a server first shows a certificate: parsing the bundle
      // costs tens of ms, and a TLS attempt on a plain-http loopback registry never needs it.
      SSL_CTX_set_cert_verify_callback(ctx.native_handle(), &State::verify_with_system_cas, this);
    }
    if (!options.ca_file.empty()) {
      ctx.load_verify_file(options.ca_file, ec);
      if (ec) {
        return Error(ErrorCode::kInvalidArgument,
                     "load ca file '" + options.ca_file + "': " + lower_first(ec.message()));
      }
    }
    ctx.set_verify_mode(options.tls_verify ? ssl::verify_peer : ssl::verify_none);
    tls_ctx.emplace(std::move(ctx));
    return &*tls_ctx;
  }

  Result<Connection*> connect(const Url& url) {
    auto conn = std::make_unique<Connection>();
    tcp::resolver resolver(ioc);
    tcp::resolver::results_type endpoints;
    error_code ec = run([&](auto handler) {
      resolver.async_resolve(url.host, std::to_string(url.port),
                             [&endpoints, handler](error_code e, tcp::resolver::results_type r) {
                               endpoints = std::move(r);
                               handler(e);
                             });
    });
    if (ec) return transport_error("resolve host of", url, ec);

    SSL* ssl_handle = nullptr;
    if (url.is_https()) {
      GANTRY_ASSIGN_OR_RETURN(ssl::context * ctx, tls_context());
      conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc, *ctx);
      ssl_handle = conn->tls->native_handle();
      error_code ip_ec;
      net::ip::make_address(url.host, ip_ec);
      if (ip_ec) {
        // A name: send SNI and check it against the certificate's DNS names.
        SSL_set_tlsext_host_name(ssl_handle, url.host.c_str());
        if (options.tls_verify) SSL_set1_host(ssl_handle, url.host.c_str());
      } else if (options.tls_verify) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), url.host.c_str());
      }
    } else {
      conn->plain = std::make_unique<beast::tcp_stream>(ioc);
    }
    beast::tcp_stream& low = conn->lowest();
    low.expires_after(options.connect_timeout);
    ec = run([&](auto handler) { low.async_connect(endpoints, handler); });
    if (ec) return transport_error("connect to", url, ec);
    low.socket().set_option(tcp::no_delay(true), ec);
    if (conn->tls) {
      low.expires_after(options.connect_timeout);
      ec =
          run([&](auto handler) { conn->tls->async_handshake(ssl::stream_base::client, handler); });
      if (ec) return transport_error("tls handshake with", url, ec, ssl_handle);
    }
    low.expires_never();
    std::string key = url.scheme + "://" + url.authority();
    auto& slot = connections[key];
    slot = std::move(conn);
    return slot.get();
  }

  void drop(const Url& url) { connections.erase(url.scheme + "://" + url.authority()); }

  template <class Stream, class Body>
  Status write_request(Stream& stream, Connection& conn, const Url& url, bhttp::request<Body>& req,
                       ExchangeFailure& failure) {
    bhttp::serializer<true, Body> sr(req);
    while (!sr.is_done()) {
      conn.lowest().expires_after(options.io_timeout);
      error_code ec = run([&](auto handler) { bhttp::async_write_some(stream, sr, handler); });
      if (ec) {
        failure.before_response = true;
        return transport_error("send request to", url, ec);
      }
    }
    return ok_status();
  }

  template <class Stream>
  Status read_response(Stream& stream, Connection& conn, const Url& url, bool head_request,
                       ClientResponse& out,
                       const std::function<Status(const ClientResponse&)>& on_head,
                       const std::function<Status(std::string_view)>& on_data, bool& keep_alive,
                       ExchangeFailure& failure) {
    std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
    for (;;) {
      parser.emplace();
      parser->header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      // Not boost::none: Boost 1.74 compares `len > none` as true and refuses every body.
      parser->body_limit(std::numeric_limits<std::uint64_t>::max());
      if (head_request) parser->skip(true);
      conn.lowest().expires_after(options.io_timeout);
      error_code ec = run(
          [&](auto handler) { bhttp::async_read_header(stream, conn.buffer, *parser, handler); });
      if (ec) {
        failure.before_response =
            !parser->got_some() &&
            (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
             ec == net::error::connection_reset || ec == ssl::error::stream_truncated);
        if (ec == bhttp::error::header_limit) {
          return Error(ErrorCode::kResourceExhausted,
                       "read response from '" + url.str() + "': headers exceed " +
                           std::to_string(options.max_header_bytes) + " bytes");
        }
        return transport_error("read response from", url, ec);
      }
      int status = static_cast<int>(parser->get().result_int());
      if (status >= 100 && status < 200 && status != 101) continue;  // interim, e.g. 100
      break;
    }
    auto& msg = parser->get();
    out.status = static_cast<int>(msg.result_int());
    for (const auto& field : msg) {
      out.headers.add(std::string(field.name_string()), std::string(field.value()));
    }
    if (on_head) GANTRY_TRY(on_head(out));
    std::vector<char> buf(kReadChunk);
    // Beast reads at most the buffer's free capacity (512 bytes when it is new), which made a
    // 30 MB blob cost 55,000 recvmsg + epoll_wait + timerfd_settime rounds.
    conn.buffer.reserve(kReadChunk);
    while (!parser->is_done()) {
      msg.body().data = buf.data();
      msg.body().size = buf.size();
      conn.lowest().expires_after(options.io_timeout);
      error_code ec =
          run([&](auto handler) { bhttp::async_read(stream, conn.buffer, *parser, handler); });
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec == ssl::error::stream_truncated && parser->need_eof()) {
        // Servers often close TLS without close_notify after an EOF-delimited body.
        error_code eof_ec;
        parser->put_eof(eof_ec);
        ec = eof_ec;
      }
      size_t n = buf.size() - msg.body().size;
      if (n > 0) GANTRY_TRY(on_data(std::string_view(buf.data(), n)));
      if (ec) {
        if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream ||
            ec == net::error::eof) {
          return Error(ErrorCode::kUnavailable,
                       "read response body from '" + url.str() +
                           "': connection closed before the body was complete");
        }
        return transport_error("read response body from", url, ec);
      }
    }
    conn.lowest().expires_never();
    keep_alive = parser->keep_alive();
    return ok_status();
  }

  template <class Body>
  void fill_request(bhttp::request<Body>& req, const Url& url, const std::string& method,
                    const Headers& headers) {
    req.version(11);
    req.method_string(method);
    req.target(url.target);
    req.set(bhttp::field::host, url.authority());
    req.set(bhttp::field::user_agent, options.user_agent);
    for (const auto& [k, v] : headers.entries()) req.insert(k, v);
  }

  // One request/response on a connection to url's origin (reused or new).
  Status exchange(const Url& url, const std::string& method, const Headers& headers,
                  const std::string& body, const std::string& body_file, ClientResponse& out,
                  const std::function<Status(const ClientResponse&)>& on_head,
                  const std::function<Status(std::string_view)>& on_data) {
    for (int attempt = 0;; ++attempt) {
      Connection* conn = nullptr;
      auto it = connections.find(url.scheme + "://" + url.authority());
      bool reused = false;
      if (it != connections.end()) {
        conn = it->second.get();
        reused = true;
      } else {
        GANTRY_ASSIGN_OR_RETURN(conn, connect(url));
      }
      out.status = 0;
      out.headers = Headers();
      ExchangeFailure failure;
      bool keep_alive = false;
      Status st = ok_status();
      bool head_request = method == "HEAD";
      auto go = [&](auto& stream) -> Status {
        if (!body_file.empty()) {
          bhttp::request<bhttp::file_body> req;
          fill_request(req, url, method, headers);
          error_code ec;
          req.body().open(body_file.c_str(), beast::file_mode::scan, ec);
          if (ec) {
            return Error(ErrorCode::kInvalidArgument,
                         "open request body '" + body_file + "': " + lower_first(ec.message()));
          }
          req.prepare_payload();
          GANTRY_TRY(write_request(stream, *conn, url, req, failure));
        } else {
          bhttp::request<bhttp::string_body> req;
          fill_request(req, url, method, headers);
          req.body() = body;
          if (!body.empty() || (method != "GET" && method != "HEAD" && method != "DELETE")) {
            req.prepare_payload();
          }
          GANTRY_TRY(write_request(stream, *conn, url, req, failure));
        }
        return read_response(stream, *conn, url, head_request, out, on_head, on_data, keep_alive,
                             failure);
      };
      st = conn->tls ? go(*conn->tls) : go(*conn->plain);
      if (st.ok()) {
        conn->used = true;
        if (!keep_alive) drop(url);
        return st;
      }
      drop(url);
      // A kept-alive connection the server closed meanwhile: once more on a fresh one.
      if (reused && failure.before_response && attempt == 0) continue;
      return st;
    }
  }

  Result<ClientResponse> execute(const ClientRequest& request, const BodySink* sink,
                                 size_t max_body) {
    GANTRY_ASSIGN_OR_RETURN(Url url, parse_url(request.url));
    std::string method = request.method;
    Headers headers = request.headers;
    std::string body = request.body;
    std::string body_file = request.body_file;
    for (int hop = 0;; ++hop) {
      ClientResponse resp;
      resp.final_url = url.str();
      bool redirect = false;
      bool success = false;
      size_t discarded = 0;
      auto on_head = [&](const ClientResponse& head) -> Status {
        redirect = is_redirect(head.status) && head.headers.has("Location");
        success = head.status >= 200 && head.status < 300;
        if (!redirect && sink != nullptr && sink->on_head) return sink->on_head(head);
        return ok_status();
      };
      auto on_data = [&](std::string_view data) -> Status {
        if (redirect) {
          discarded += data.size();
          if (discarded > kRedirectBodyCap) {
            return Error(ErrorCode::kResourceExhausted,
                         "redirect from '" + url.str() + "' has an oversized body");
          }
          return ok_status();
        }
        if (sink != nullptr) {
          if (success) return sink->on_data(data);
          size_t room = kErrorBodyCap - std::min(kErrorBodyCap, resp.body.size());
          resp.body.append(data.substr(0, room));
          return ok_status();
        }
        if (resp.body.size() + data.size() > max_body) {
          return Error(ErrorCode::kResourceExhausted, "response body from '" + url.str() +
                                                          "' exceeds " + std::to_string(max_body) +
                                                          " bytes");
        }
        resp.body.append(data);
        return ok_status();
      };
      Status st = exchange(url, method, headers, body, body_file, resp, on_head, on_data);
      if (!st.ok()) {
        // The connection may be mid-body: never reuse it.
        drop(url);
        return std::move(st).error();
      }
      if (!redirect) return resp;
      if (hop >= options.max_redirects) {
        return Error(ErrorCode::kUnavailable, "request to '" + request.url + "': more than " +
                                                  std::to_string(options.max_redirects) +
                                                  " redirects");
      }
      std::string location = *resp.headers.get("Location");
      auto next = resolve_url(url, location);
      if (!next.ok()) {
        return std::move(next).error().with_context("redirect from '" + url.str() + "'");
      }
      if (!next->same_origin(url)) headers.remove("Authorization");
      if (resp.status == 303 || ((resp.status == 301 || resp.status == 302) && method == "POST")) {
        if (method != "HEAD") method = "GET";
        body.clear();
        body_file.clear();
        headers.remove("Content-Type");
      }
      url = *next;
    }
  }
};

bool is_tls_handshake_error(const Error& error) {
  return error.code() == ErrorCode::kUnavailable &&
         error.message().rfind("tls handshake with ", 0) == 0;
}

Client::Client(ClientOptions options) : state_(std::make_unique<State>(std::move(options))) {}
Client::~Client() = default;

Result<ClientResponse> Client::send(const ClientRequest& request, size_t max_body) {
  try {
    return state_->execute(request, nullptr, max_body);
  } catch (const std::exception& e) {
    state_->connections.clear();
    return Error(ErrorCode::kInternal, "request to '" + request.url + "': " + e.what());
  }
}

Result<ClientResponse> Client::stream(const ClientRequest& request, const BodySink& sink) {
  try {
    return state_->execute(request, &sink, 0);
  } catch (const std::exception& e) {
    state_->connections.clear();
    return Error(ErrorCode::kInternal, "request to '" + request.url + "': " + e.what());
  }
}

void Client::close_connections() { state_->connections.clear(); }

}  // namespace gantry::http
