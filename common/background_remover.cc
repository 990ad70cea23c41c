#include "common/background_remover.h"

#include <pthread.h>
#include <signal.h>

#include "common/file.h"
#include "common/logging.h"

namespace gantry {

BackgroundRemover::~BackgroundRemover() {
  drain();
  worker_.request_stop();
  cv_.notify_all();
}

void BackgroundRemover::remove(std::string path) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(path));
    if (!worker_.joinable()) start_worker();
  }
  cv_.notify_all();
}

void BackgroundRemover::start_worker() {
  // The worker takes no signal: a process-directed SIGINT or SIGTERM must reach the thread
  // that waits for it (the CLI's), not kill the process through this one. A thread starts with
  // its creator's mask, so the mask is full while it is made.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  worker_ = std::jthread([this](std::stop_token stop) { loop(std::move(stop)); });
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void BackgroundRemover::drain() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

void BackgroundRemover::loop(std::stop_token stop) {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, stop, [&] { return !queue_.empty(); });
    if (queue_.empty()) return;  // stop requested, and drain() saw the queue empty
    std::string path = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    if (auto st = remove_all(path); !st.ok()) {
      logger("agent")->warn("background removal failed path={} error={}", path,
                            st.error().message());
    }
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace gantry
