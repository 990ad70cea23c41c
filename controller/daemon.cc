#include "controller/daemon.h"

#include <charconv>

#include "common/logging.h"
#include "controller/api/routes.h"

namespace gantry::controller {

Result<std::pair<std::string, uint16_t>> parse_listen_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return Error(ErrorCode::kInvalidArgument,
                 "listen address '" + text + "': expected ADDR:PORT (e.g. 127.0.0.1:8080)");
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535) {
    return Error(ErrorCode::kInvalidArgument,
                 "listen address '" + text + "': port '" + port_text + "' is not 0-65535");
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

Result<std::unique_ptr<Daemon>> Daemon::start(DaemonOptions options) {
  std::unique_ptr<Daemon> d(new Daemon());
  d->options_ = options;
  GANTRY_ASSIGN_OR_RETURN(d->controller_, Controller::open(options.controller));
  http::ServerOptions so;
  so.address = options.address;
  so.port = options.port;
  so.threads = options.threads;
  so.max_body_bytes = max_request_body(options.controller);
  // Long-polls hold a connection up to max_poll_wait without traffic.
  so.idle_timeout = std::max<std::chrono::milliseconds>(
      so.idle_timeout, options.controller.max_poll_wait + std::chrono::seconds(30));
  GANTRY_ASSIGN_OR_RETURN(d->server_,
                          http::Server::start_async(so, make_api_handler(*d->controller_)));
  d->ticker_ = std::thread([p = d.get()] {
    std::unique_lock lock(p->mu_);
    while (!p->stopping_) {
      p->cv_.wait_for(lock, p->options_.tick);
      if (p->stopping_) break;
      lock.unlock();
      p->controller_->tick();
      lock.lock();
    }
  });
  logger("api")->info("controller listening url={} data={}", d->server_->url(),
                      options.controller.data_dir);
  return d;
}

void Daemon::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !ticker_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  if (server_) {
    server_->begin_stop();
    controller_->shutdown();
    server_->stop();
  }
}

Daemon::~Daemon() { stop(); }

}  // namespace gantry::controller
