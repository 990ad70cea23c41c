#include "agent/output_pump.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace gantry::agent {

OutputPump::OutputPump(int read_fd, std::function<void(std::string_view)> sink)
    : fd_(read_fd), sink_(std::move(sink)) {
  int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  thread_ = std::thread([this] { loop(); });
}

void OutputPump::drain() {
  std::lock_guard lock(drain_mu_);
  if (!thread_.joinable()) return;
  ended_ = true;
  thread_.join();
}

void OutputPump::loop() {
  char buf[16384];
  for (;;) {
    struct pollfd p{fd_, POLLIN, 0};
    int n = ::poll(&p, 1, ended_ ? 0 : 200);
    if (n < 0 && errno != EINTR) return;
    if (n > 0) {
      ssize_t r = ::read(fd_, buf, sizeof buf);
      if (r > 0) {
        sink_(std::string_view(buf, static_cast<size_t>(r)));
        continue;
      }
      if (r == 0) return;  // every writer closed
      if (errno != EAGAIN && errno != EINTR) return;
    }
    if (n == 0 && ended_) return;  // nothing more will come
  }
}

}  // namespace gantry::agent
