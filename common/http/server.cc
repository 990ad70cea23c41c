// Boost.Beast adapter for common/http/server.h: one acceptor, one Session per connection, each
// on its own strand; the handler sees only plain structs.
#include "common/http/server.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include "common/logging.h"

namespace gantry::http {

namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

std::string lower_first(std::string s) {
  if (s.size() > 1 && s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z')) {
    s[0] = static_cast<char>(s[0] - 'A' + 'a');
  }
  return s;
}

class Session;

constexpr std::chrono::milliseconds kAcceptRetry{50};

// accept() failures that pass when other connections close: out of fds (process or system) or
// of socket memory.
bool out_of_resources(const error_code& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  int e = ec.value();
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

}  // namespace

struct Responder::Shared {
  std::function<void(Response)> send;
  std::atomic<bool> done{false};
  ~Shared() {
    if (!done.exchange(true) && send) {
      send(text_response(500, "request dropped without an answer\n"));
    }
  }
};

Responder::Responder(std::function<void(Response)> send) : shared_(std::make_shared<Shared>()) {
  shared_->send = std::move(send);
}

void Responder::send(Response response) const {
  if (shared_->done.exchange(true)) return;
  shared_->send(std::move(response));
}

bool Responder::answered() const { return shared_->done.load(); }

struct Server::State {
  ServerOptions options;
  AsyncHandler handler;
  net::io_context ioc;
  tcp::acceptor acceptor{net::make_strand(ioc)};  // on a strand: accept and close race otherwise
  net::steady_timer accept_timer{acceptor.get_executor()};  // on the acceptor's strand
  long accept_failures = 0;  // in a row, out of fds or memory; used on the acceptor's strand
  uint16_t port = 0;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  bool stopped = false;
  std::mutex join_mu;  // stop() may race with itself (signal path and destructor)
  std::list<std::weak_ptr<Session>> sessions;  // guarded by mu

  void accept(const std::shared_ptr<State>& self);
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  static constexpr std::size_t kSmallBuffer = 16 * 1024;
  static constexpr std::size_t kLargeRead = 64 * 1024;  // Beast reads at most 64 KiB at once

  Session(tcp::socket socket, std::shared_ptr<Server::State> state)
      : stream_(std::move(socket)), state_(std::move(state)) {
    error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    // Responses go out whole, or as chunks of a stream that should not wait for an ACK.
    stream_.socket().set_option(tcp::no_delay(true), ec);
  }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

  // Closes the connection unless a request is being answered (that one closes after its
  // response). Runs on the session's strand.
  void close_if_idle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) self->close();
    });
  }

 private:
  void read() {
    busy_ = false;
    if (state_->stopping) return close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->options.max_header_bytes));
    parser_->body_limit(state_->options.max_body_bytes);
    // An idle keep-alive connection keeps a small buffer (1,000 idle agents hold 1,000).
    if (buffer_.size() == 0 && buffer_.capacity() > kSmallBuffer) buffer_.shrink_to_fit();
    stream_.expires_after(state_->options.idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  // Beast reads at most the buffer's free capacity per read (at least 512 bytes), so a body
  // read through the small buffer a header needs takes one recvmsg and one handler per KiB or
  // so: log appends of 256 KiB were CPU-bound on that. A request with a large body gets a
  // large buffer first.
  void on_header(error_code ec, std::size_t) {
    if (ec || parser_->is_done()) return on_read(ec, 0);
    auto length = parser_->content_length();
    if (parser_->chunked() || (length && *length > kSmallBuffer)) {
      buffer_.reserve(kLargeRead);
    }
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(error_code ec, std::size_t) {
    busy_ = true;
    if (ec == bhttp::error::header_limit) {
      return write(text_response(431, "request headers too large\n"), false, false);
    }
    if (ec == bhttp::error::body_limit) {
      return write(text_response(413, "request body too large\n"), false, false);
    }
    if (ec) return close();  // end of stream, timeout, reset, shutdown
    auto& msg = parser_->get();
    Request request;
    request.method = std::string(msg.method_string());
    request.target = std::string(msg.target());
    for (const auto& field : msg) {
      request.headers.add(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(msg.body());
    request.remote_address = remote_;
    bool keep_alive = msg.keep_alive();
    bool head_request = request.method == "HEAD";
    std::string method = request.method;
    std::string target = request.target;
    // The answer may come from another thread, later: it hops onto this session's strand, and
    // a work guard keeps the io_context running until it has come.
    auto work = std::make_shared<net::executor_work_guard<net::io_context::executor_type>>(
        state_->ioc.get_executor());
    Responder respond([self = shared_from_this(), work, keep_alive,
                       head_request](Response response) mutable {
      net::dispatch(self->stream_.get_executor(),
                    [self, work, keep_alive, head_request,
                     response = std::move(response)]() mutable {
                      self->write(std::move(response), keep_alive && !self->state_->stopping,
                                  head_request);
                    });
    });
    try {
      state_->handler(std::move(request), respond);
    } catch (const std::exception& e) {
      logger("api")->error("handler failed method={} target={} error={}", method, target,
                           e.what());
      respond.send(text_response(500, "internal error\n"));
    }
  }

  template <class Message>
  void fill(Message& msg, const Response& response, bool keep_alive) {
    msg.version(11);
    msg.result(static_cast<unsigned>(response.status));
    for (const auto& [k, v] : response.headers.entries()) msg.insert(k, v);
    msg.keep_alive(keep_alive);
  }

  void write(Response response, bool keep_alive, bool head_request) {
    stream_.expires_after(state_->options.idle_timeout);
    auto done = [self = shared_from_this(), keep_alive](error_code ec, std::size_t) {
      if (ec || !keep_alive) return self->close();
      self->read();
    };
    if (response.stream && !head_request) {
      auto msg = std::make_shared<bhttp::response<bhttp::empty_body>>();
      fill(*msg, response, keep_alive);
      msg->chunked(true);
      auto sr = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*msg);
      bhttp::async_write_header(
          stream_, *sr,
          [self = shared_from_this(), msg, sr, producer = std::move(response.stream), keep_alive](
              error_code ec, std::size_t) mutable {
            if (ec) return self->close();
            self->write_chunk(std::move(producer), keep_alive);
          });
      return;
    }
    if (head_request) {
      auto msg = std::make_shared<bhttp::response<bhttp::empty_body>>();
      fill(*msg, response, keep_alive);
      if (!response.stream) msg->content_length(response.body.size());
      bhttp::async_write(stream_, *msg, [msg, done](error_code ec, std::size_t n) { done(ec, n); });
      return;
    }
    auto msg = std::make_shared<bhttp::response<bhttp::string_body>>();
    fill(*msg, response, keep_alive);
    msg->body() = std::move(response.body);
    msg->prepare_payload();
    bhttp::async_write(stream_, *msg, [msg, done](error_code ec, std::size_t n) { done(ec, n); });
  }

  void write_chunk(BodyProducer producer, bool keep_alive) {
    Result<std::string> piece = std::string();
    try {
      piece = producer();
    } catch (const std::exception& e) {
      piece = Error(ErrorCode::kInternal, e.what());
    }
    if (!piece.ok()) {
      logger("api")->warn("streamed response aborted error={}", piece.error().message());
      return close();
    }
    stream_.expires_after(state_->options.idle_timeout);
    if (piece->empty()) {
      auto last = std::make_shared<bhttp::chunk_last<bhttp::chunk_crlf>>(bhttp::make_chunk_last());
      net::async_write(stream_, *last,
                       [self = shared_from_this(), last, keep_alive](error_code ec, std::size_t) {
                         if (ec || !keep_alive) return self->close();
                         self->read();
                       });
      return;
    }
    auto data = std::make_shared<std::string>(std::move(*piece));
    auto chunk = std::make_shared<bhttp::chunk_body<net::const_buffer>>(
        bhttp::make_chunk(net::const_buffer(data->data(), data->size())));
    net::async_write(stream_, *chunk,
                     [self = shared_from_this(), data, chunk, producer = std::move(producer),
                      keep_alive](error_code ec, std::size_t) mutable {
                       if (ec) return self->close();
                       self->write_chunk(std::move(producer), keep_alive);
                     });
  }

  void close() {
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<Server::State> state_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string remote_;
  bool busy_ = false;
};

}  // namespace

void Server::State::accept(const std::shared_ptr<State>& self) {
  acceptor.async_accept(net::make_strand(ioc), [self](error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || self->stopping || !self->acceptor.is_open()) {
      return;
    }
    if (!ec) {
      if (self->accept_failures > 0) {
        logger("api")->info("accepting again after failures={}", self->accept_failures);
        self->accept_failures = 0;
      }
      auto session = std::make_shared<Session>(std::move(socket), self);
      {
        std::lock_guard lock(self->mu);
        self->sessions.remove_if([](const auto& w) { return w.expired(); });
        self->sessions.push_back(session);
      }
      session->start();
    } else if (out_of_resources(ec)) {
      // The connection stays in the backlog, so accepting again at once fails again at once:
      // a busy loop and a log line per turn. Wait for connections to close instead.
      if (self->accept_failures++ == 0) {
        logger("api")->warn("accept failed error={} retry_ms={} (raise the open files limit?)",
                            ec.message(), kAcceptRetry.count());
      }
      self->accept_timer.expires_after(kAcceptRetry);
      self->accept_timer.async_wait([self](error_code wait_ec) {
        if (wait_ec || self->stopping || !self->acceptor.is_open()) return;
        self->accept(self);
      });
      return;
    } else {
      logger("api")->warn("accept failed error={}", ec.message());
    }
    self->accept(self);
  });
}

Server::Server(std::shared_ptr<State> state) : state_(std::move(state)) {}

Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options, Handler handler) {
  return start_async(options, [handler = std::move(handler)](Request request, Responder respond) {
    respond.send(handler(request));
  });
}

Result<std::unique_ptr<Server>> Server::start_async(const ServerOptions& options,
                                                    AsyncHandler handler) {
  auto state = std::make_shared<State>();
  state->options = options;
  state->handler = std::move(handler);
  std::string where = options.address + ":" + std::to_string(options.port);
  error_code ec;
  auto address = net::ip::make_address(options.address, ec);
  if (ec) {
    return Error(ErrorCode::kInvalidArgument, "listen on '" + where + "': invalid address");
  }
  tcp::endpoint endpoint(address, options.port);
  auto fail = [&](std::string_view step) {
    ErrorCode code = ec == net::error::address_in_use  ? ErrorCode::kAlreadyExists
                     : ec == net::error::access_denied ? ErrorCode::kPermissionDenied
                                                       : ErrorCode::kIo;
    return Error(
        code, "listen on '" + where + "': " + std::string(step) + ": " + lower_first(ec.message()));
  };
  state->acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  state->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return fail("set reuse_address");
  state->acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  state->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  state->port = state->acceptor.local_endpoint().port();
  state->accept(state);
  int threads = std::max(1, options.threads);
  for (int i = 0; i < threads; ++i) {
    state->threads.emplace_back([st = state.get()] {
      for (;;) {
        try {
          st->ioc.run();
          return;
        } catch (const std::exception& e) {
          logger("api")->error("server thread caught error={}", e.what());
        }
      }
    });
  }
  return std::unique_ptr<Server>(new Server(std::move(state)));
}

uint16_t Server::port() const { return state_->port; }
const std::string& Server::address() const { return state_->options.address; }

std::string Server::url() const {
  std::string host = address().find(':') != std::string::npos ? "[" + address() + "]" : address();
  return "http://" + host + ":" + std::to_string(port());
}

void Server::begin_stop() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopped) return;
    state_->stopped = true;
  }
  state_->stopping = true;
  net::post(state_->acceptor.get_executor(), [st = state_] {
    error_code ec;
    st->acceptor.close(ec);
    st->accept_timer.cancel();
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(state_->mu);
    for (auto& w : state_->sessions) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
    state_->sessions.clear();
  }
  for (auto& s : live) s->close_if_idle();
}

void Server::stop() {
  begin_stop();
  std::lock_guard lock(state_->join_mu);
  for (auto& t : state_->threads) {
    if (t.joinable()) t.join();
  }
}

}  // namespace gantry::http
