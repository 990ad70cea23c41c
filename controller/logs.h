// Job logs on the controller: one append-only file per job attempt, written at byte offsets.
// An append lands only when it starts at the log's current end, so a chunk an agent sends twice
// is written once and a lost chunk is never skipped. With a size cap the log keeps its head
// (the first half of the cap) and its tail (at least the last half); reads of the cut region
// return one line saying how much was cut. Sizes survive restarts (they are the files' sizes).
//   logs/<job>/<attempt>.log            the head (the whole log while under the cap)
//   logs/<job>/<attempt>.tail.<offset>  tail segments: bytes from logical offset <offset> on;
//                                       at most two, contiguous; a full one starts the next and
//                                       the one before it is removed (no copying, no fsync)
// The SHA-256 of a log is kept as it is written, so the final check reads nothing back.
// Thread-safe: one lock per open log plus one for the table of open logs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace gantry::controller {

struct AppendResult {
  bool accepted = false;  // false: `offset` was not the current size; nothing written
  uint64_t size = 0;      // the log's size after the call
};

struct LogRead {
  std::string data;
  uint64_t next_offset = 0;
  uint64_t size = 0;  // the log's size at the read
};

class LogStore {
 public:
  // `max_bytes` 0: no cap.
  LogStore(std::string dir, uint64_t max_bytes);
  ~LogStore();

  Result<AppendResult> append(int64_t job, int attempt, uint64_t offset, std::string_view data);
  Result<uint64_t> size(int64_t job, int attempt);
  // Up to `limit` bytes from logical `offset` (an offset past the end reads nothing).
  Result<LogRead> read(int64_t job, int attempt, uint64_t offset, size_t limit);
  // Hex SHA-256 of the whole log, or nullopt when the cap cut part of it. Kept as the log is
  // written (reads the files only for a log this process did not write from its start).
  Result<std::optional<std::string>> sha256(int64_t job, int attempt);
  // Forgets the open state of a log that will not grow (closes its files).
  void close(int64_t job, int attempt);

  uint64_t max_bytes() const { return max_bytes_; }

 private:
  struct Log;
  Result<std::shared_ptr<Log>> open(int64_t job, int attempt);
  Status start_segment(Log& log);

  std::string dir_;
  uint64_t max_bytes_;
  uint64_t head_limit_;
  uint64_t tail_keep_;
  std::mutex mu_;
  std::map<std::pair<int64_t, int>, std::shared_ptr<Log>> open_;
};

}  // namespace gantry::controller
