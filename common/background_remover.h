// BackgroundRemover: deletes directory trees on a thread of its own, so that whoever lets go of
// a tree (a finished container's bundle, a finished job's workspace) does not wait on the
// filesystem; each unlink on a disk mounted with `discard` waits for the device. The caller
// first makes the tree unreachable by the name it had (a rename, or a unique temp name), so
// nothing new can be written into it. Failures are logged. The destructor finishes every
// queued removal: nothing is left behind when the owner goes. Its thread blocks every signal.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace gantry {

class BackgroundRemover {
 public:
  BackgroundRemover() = default;
  ~BackgroundRemover();
  BackgroundRemover(const BackgroundRemover&) = delete;
  BackgroundRemover& operator=(const BackgroundRemover&) = delete;

  // Queues `path` (a file or a whole tree) for removal.
  void remove(std::string path);
  // Returns once everything queued before the call is gone.
  void drain();

 private:
  void start_worker();  // with mu_ held; on the first remove(), so an idle owner has no thread
  void loop(std::stop_token stop);

  std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::string> queue_;
  bool busy_ = false;
  std::jthread worker_;  // last: joined before the fields it uses go; started on first use
};

}  // namespace gantry
