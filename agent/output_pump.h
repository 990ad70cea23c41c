// OutputPump: reads a container's output pipe on a thread of its own and hands each chunk to a
// callback (the job log, a service's log tail). The pipe is made non-blocking: once the
// container has ended (every writer should be dead), drain() reads what is left and stops, even
// if some stray process still holds a copy of the write end. Used by the JobExecutor and by
// ServiceSet. The callback runs on the pump's thread; drain() (or the destructor) joins it.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>

namespace gantry::agent {

class OutputPump {
 public:
  // `read_fd` stays the caller's and must outlive the pump.
  OutputPump(int read_fd, std::function<void(std::string_view)> sink);
  ~OutputPump() { drain(); }
  OutputPump(const OutputPump&) = delete;
  OutputPump& operator=(const OutputPump&) = delete;

  // Reads what is buffered, then stops and joins. Idempotent; safe from several threads.
  void drain();

 private:
  void loop();

  int fd_;
  std::function<void(std::string_view)> sink_;
  std::atomic<bool> ended_{false};
  std::mutex drain_mu_;
  std::thread thread_;
};

}  // namespace gantry::agent
