// LogUploader: takes a job's log as the executor produces it and appends it to the controller in
// chunks at byte offsets, on its own thread, so a slow or restarting controller never blocks the
// job. Every byte is first written to a spool file on the agent's disk; the upload reads from
// there. The controller refuses an append that does not start at its current end and says where
// the end is: the uploader continues from that offset, so a chunk whose answer was lost is never
// written twice and a chunk the controller lost is sent again. Transport failures are retried
// with capped exponential backoff, without limit, until finish()'s stop token says give up.
// write() and finish() may be called from different threads; finish() once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

#include "agent/remote/backoff.h"
#include "common/digest.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace gantry::agent {

// The controller's answer to an append of `data` at `offset`.
struct AppendReply {
  bool accepted = false;
  // accepted: the log's length after the append; refused: its current length (where the next
  // append must start).
  uint64_t length = 0;
};

// The append call, as the protocol client makes it. Errors: kUnavailable/kDeadlineExceeded are
// retried; anything else (job gone, attempt superseded, bad token) ends the upload.
class LogAppender {
 public:
  virtual ~LogAppender() = default;
  virtual Result<AppendReply> append(uint64_t offset, std::string_view data) = 0;
};

struct LogUploaderOptions {
  // Fast output goes in chunks this large: fewer round trips (the controller takes up to 8 MiB).
  size_t max_chunk = 1024 * 1024;
  // Output after a quiet spell of this long is sent at once; while output keeps coming, a
  // partial chunk goes at most this often, so a job's output shows up live.
  std::chrono::milliseconds flush_interval{200};
  BackoffPolicy backoff;
  // The wait between retries; tests pass one that does not sleep.
  std::function<bool(std::chrono::milliseconds, std::stop_token)> wait = wait_for;
};

struct LogSummary {
  uint64_t size = 0;
  std::string sha256;  // hex of the whole log
};

class LogUploader {
 public:
  // Creates (truncates) the spool file at `spool_path` and starts the upload thread.
  static Result<std::unique_ptr<LogUploader>> start(const std::string& spool_path,
                                                    LogAppender& appender,
                                                    LogUploaderOptions options = {});
  ~LogUploader();  // stops the thread; does not wait for the upload (call finish() for that)
  LogUploader(const LogUploader&) = delete;
  LogUploader& operator=(const LogUploader&) = delete;

  // Appends to the log. Fails only when the spool file cannot be written (disk full).
  Status write(std::string_view data);

  // Ends the log and waits until the controller has all of it, or `stop` is requested
  // (kCancelled), or the upload failed for good (that error). Returns the log's size and sha256.
  Result<LogSummary> finish(std::stop_token stop = {});

  // After finish(): the controller says it holds only `offset` bytes (it lost the tail in a
  // restart); sends the rest again from the spool and waits as finish() does.
  Result<LogSummary> resend_from(uint64_t offset, std::stop_token stop = {});

  // Bytes the controller has confirmed so far.
  uint64_t acknowledged() const;

 private:
  LogUploader(std::string spool_path, UniqueFd fd, LogAppender& appender,
              LogUploaderOptions options);
  void run(std::stop_token stop);
  Result<std::string> read_spool(uint64_t offset, size_t size) const;
  Result<LogSummary> wait_uploaded(std::stop_token stop);

  const std::string spool_path_;
  UniqueFd fd_;
  LogAppender& appender_;
  const LogUploaderOptions options_;

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  uint64_t written_ = 0;
  uint64_t acked_ = 0;
  std::chrono::steady_clock::time_point last_send_{};  // when the last append started
  bool closed_ = false;
  std::optional<Error> failure_;
  Sha256 sha_;
  std::string sha_hex_;  // set by the first finish()
  std::jthread thread_;
};

}  // namespace gantry::agent
