// The running controller: a Controller, the HTTP server on its address (async handler, so
// long-polls hold no thread) and a ticker thread that expires leases and waits. Used by
// `gantry controller` and by tests that start a controller in-process on 127.0.0.1:0.
// stop() is graceful: no new connections, every held request answered, threads joined.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/http/server.h"
#include "common/result.h"
#include "controller/controller.h"

namespace gantry::controller {

struct DaemonOptions {
  ControllerOptions controller;
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port
  int threads = 2;
  std::chrono::milliseconds tick{250};
};

class Daemon {
 public:
  static Result<std::unique_ptr<Daemon>> start(DaemonOptions options);
  ~Daemon();  // stop()

  std::string url() const { return server_->url(); }
  uint16_t port() const { return server_->port(); }
  Controller& controller() { return *controller_; }
  void stop();

 private:
  Daemon() = default;
  DaemonOptions options_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<http::Server> server_;
  std::thread ticker_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

// Splits "ADDR:PORT" ("127.0.0.1:8080", "[::1]:0", "0.0.0.0:80"). kInvalidArgument naming it.
Result<std::pair<std::string, uint16_t>> parse_listen_address(const std::string& text);

}  // namespace gantry::controller
