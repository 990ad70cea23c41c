// Capped exponential backoff with jitter, for the agent's calls to its controller: a failed call
// waits initial, 2×, 4×, … up to `max`, each delay drawn uniformly from [delay/2, delay] so that
// many agents coming back after a controller restart do not all knock at once. reset() after a
// success. Pure (the random source is injectable); one object per retry loop, not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>

namespace gantry::agent {

struct BackoffPolicy {
  std::chrono::milliseconds initial{250};
  std::chrono::milliseconds max{std::chrono::seconds(15)};
  double multiplier = 2.0;
  bool jitter = true;
};

class Backoff {
 public:
  // `random01` returns values in [0, 1); the default is a per-object PRNG seeded from the clock.
  explicit Backoff(BackoffPolicy policy = {}, std::function<double()> random01 = {});

  // The delay before the next try; grows until the cap.
  std::chrono::milliseconds next();
  // Back to the initial delay (after a success).
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  BackoffPolicy policy_;
  std::function<double()> random01_;
  uint64_t seed_;
  int attempt_ = 0;
};

// Waits `delay` or until `stop` is requested, whichever comes first; true if the full delay
// passed. The one blocking wait of the retry loops, so that SIGTERM interrupts them at once.
bool wait_for(std::chrono::milliseconds delay, std::stop_token stop);

}  // namespace gantry::agent
