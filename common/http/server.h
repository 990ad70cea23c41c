// HTTP/1.1 server: a listener and sessions written once (Boost.Beast, in server.cc only) around
// a handler over plain Request/Response structs. Binds address:port (port 0 picks a free port,
// reported by port()), enforces header and body size limits (431/413), keeps connections alive,
// sends streamed responses chunked, answers requests later when the handler says so (long
// polls: no thread waits meanwhile), and shuts down gracefully: stop() stops accepting, lets
// in-flight responses finish and closes idle connections. The handler runs on the server's
// threads and must be thread-safe when ServerOptions::threads > 1. Server itself: stop() and the
// accessors may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/http/message.h"
#include "common/result.h"

namespace gantry::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 8 << 20;
  // A connection that sends nothing (or cannot take a response) for this long is closed.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  int threads = 1;
};

// Turns a request into a response. Exceptions become a 500 response.
using Handler = std::function<Response(const Request&)>;

// Answers one request later, from any thread (long-polls: the handler keeps it until there is
// something to say). Copies share one answer: the first send() wins, later ones do nothing.
// When the last copy goes away unanswered, the request gets a 500 so the connection is not left
// hanging. The server does not finish stop() while a Responder is outstanding.
class Responder {
 public:
  explicit Responder(std::function<void(Response)> send);
  void send(Response response) const;
  bool answered() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

// Takes a request and answers it through `respond`, at once or later. Must not block: long
// work belongs elsewhere. Exceptions become a 500 response.
using AsyncHandler = std::function<void(Request request, Responder respond)>;

class Server {
 public:
  // Binds and starts serving on background threads. Errors name the address (in use, denied).
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options, Handler handler);
  // The same for a handler that may answer later (Responder).
  static Result<std::unique_ptr<Server>> start_async(const ServerOptions& options,
                                                     AsyncHandler handler);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;
  const std::string& address() const;
  // "http://address:port"
  std::string url() const;

  // Starts a graceful shutdown without waiting: no new connections, idle ones closed, in-flight
  // requests answered with `Connection: close`. Idempotent.
  void begin_stop();
  // begin_stop(), then returns when every server thread has ended. Idempotent.
  void stop();

  struct State;  // server.cc: io_context, acceptor, sessions (public only for the sessions there)

 private:
  explicit Server(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace gantry::http
