#include "agent/remote/backoff.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace gantry::agent {

Backoff::Backoff(BackoffPolicy policy, std::function<double()> random01)
    : policy_(policy),
      random01_(std::move(random01)),
      seed_(static_cast<uint64_t>(
                std::chrono::steady_clock::now().time_since_epoch().count()) |
            1) {}

std::chrono::milliseconds Backoff::next() {
  double base = static_cast<double>(policy_.initial.count());
  double cap = static_cast<double>(policy_.max.count());
  for (int i = 0; i < attempt_ && base < cap; ++i) base *= policy_.multiplier;
  base = std::min(base, cap);
  ++attempt_;
  if (policy_.jitter) {
    double r;
    if (random01_) {
      r = random01_();
    } else {
      // xorshift64*: good enough to spread retries, no shared state between objects.
      seed_ ^= seed_ >> 12;
      seed_ ^= seed_ << 25;
      seed_ ^= seed_ >> 27;
      r = static_cast<double>((seed_ * 2685821657736338717ULL) >> 11) /
          static_cast<double>(1ULL << 53);
    }
    base = base / 2 + base / 2 * r;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(base));
}

bool wait_for(std::chrono::milliseconds delay, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_for(lock, stop, delay, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace gantry::agent
