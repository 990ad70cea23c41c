#include "controller/logs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <vector>

#include "common/digest.h"
#include "common/file.h"
#include "common/unique_fd.h"

namespace gantry::controller {

struct LogStore::Log {
  struct Segment {
    std::string path;
    uint64_t base = 0;  // logical offset of its first byte
    uint64_t size = 0;
  };
  std::mutex mu;
  std::string job_dir;
  std::string head_path;
  UniqueFd head_fd;
  uint64_t head_size = 0;
  std::vector<Segment> tail;  // oldest first, contiguous; empty while under the cap
  UniqueFd tail_fd;           // the newest segment's
  int attempt = 0;
  // The hash of every byte written so far, while this process has seen them all.
  std::optional<Sha256> hash;
  std::string hash_hex;  // set once the hash is finished

  uint64_t size() const { return tail.empty() ? head_size : tail.back().base + tail.back().size; }
};

namespace {

Status write_all(int fd, std::string_view data, const std::string& path, uint64_t& written) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write '" + path + "'");
    }
    written += static_cast<uint64_t>(n);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok_status();
}

Result<std::string> pread_range(const std::string& path, uint64_t offset, size_t length) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error("open '" + path + "'");
  std::string out(length, '\0');
  size_t got = 0;
  while (got < length) {
    ssize_t n = ::pread(fd.get(), out.data() + got, length - got,
                        static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read '" + path + "'");
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

Result<UniqueFd> open_append(const std::string& path, uint64_t& size) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!fd) return sys_error("open '" + path + "'");
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat '" + path + "'");
  size = static_cast<uint64_t>(st.st_size);
  return fd;
}

std::string cut_marker(uint64_t cut, uint64_t limit) {
  return "\n[gantry: " + std::to_string(cut) + " bytes cut from the middle of this log (limit " +
         std::to_string(limit) + ")]\n";
}

}  // namespace

LogStore::LogStore(std::string dir, uint64_t max_bytes)
    : dir_(std::move(dir)),
      max_bytes_(max_bytes),
      head_limit_(max_bytes / 2),
      tail_keep_(max_bytes - max_bytes / 2) {}

LogStore::~LogStore() = default;

Result<std::shared_ptr<LogStore::Log>> LogStore::open(int64_t job, int attempt) {
  std::lock_guard lock(mu_);
  auto key = std::make_pair(job, attempt);
  if (auto it = open_.find(key); it != open_.end()) return it->second;
  auto log = std::make_shared<Log>();
  log->attempt = attempt;
  log->job_dir = join_path(dir_, std::to_string(job));
  GANTRY_TRY(make_dirs(log->job_dir, 0750));
  log->head_path = join_path(log->job_dir, std::to_string(attempt) + ".log");
  GANTRY_ASSIGN_OR_RETURN(log->head_fd, open_append(log->head_path, log->head_size));
  // Tail segments: the newest, and the one before it when the two are contiguous. Anything
  // else is a leftover: a compaction of an older gantry that a crash interrupted (its old
  // tail overlaps the new one), or a segment whose removal a crash interrupted.
  GANTRY_ASSIGN_OR_RETURN(auto names, list_dir(log->job_dir));
  std::string prefix = std::to_string(attempt) + ".tail.";
  std::vector<std::pair<uint64_t, std::string>> segments;
  for (const auto& name : names) {
    if (name.rfind(prefix, 0) != 0) continue;
    std::string rest = name.substr(prefix.size());
    if (rest.empty() || rest.size() > 19 ||
        rest.find_first_not_of("0123456789") != std::string::npos) {
      ::unlink(join_path(log->job_dir, name).c_str());  // an unfinished compaction (.tmp)
      continue;
    }
    segments.emplace_back(std::stoull(rest), name);
  }
  std::sort(segments.begin(), segments.end());
  if (!segments.empty()) {
    Log::Segment newest{join_path(log->job_dir, segments.back().second), segments.back().first, 0};
    GANTRY_ASSIGN_OR_RETURN(log->tail_fd, open_append(newest.path, newest.size));
    size_t keep_from = segments.size() - 1;
    if (segments.size() >= 2) {
      const auto& [base, name] = segments[segments.size() - 2];
      std::string path = join_path(log->job_dir, name);
      struct stat st{};
      if (::stat(path.c_str(), &st) == 0 &&
          base + static_cast<uint64_t>(st.st_size) == newest.base) {
        log->tail.push_back({path, base, static_cast<uint64_t>(st.st_size)});
        keep_from = segments.size() - 2;
      }
    }
    for (size_t i = 0; i < keep_from; ++i) {
      ::unlink(join_path(log->job_dir, segments[i].second).c_str());
    }
    log->tail.push_back(std::move(newest));
  }
  if (log->size() == 0) log->hash.emplace();
  open_[key] = log;
  return log;
}

void LogStore::close(int64_t job, int attempt) {
  std::lock_guard lock(mu_);
  open_.erase({job, attempt});
}

Result<AppendResult> LogStore::append(int64_t job, int attempt, uint64_t offset,
                                      std::string_view data) {
  GANTRY_ASSIGN_OR_RETURN(auto log, open(job, attempt));
  std::lock_guard lock(log->mu);
  uint64_t size = log->size();
  if (offset != size) return AppendResult{false, size};
  if (data.empty()) return AppendResult{true, size};
  // A write that fails part-way leaves bytes the hash has not seen.
  bool hashed = log->hash.has_value() && log->hash_hex.empty();
  std::string_view all = data;
  log->hash_hex.clear();
  auto context = [&](Error e) {
    log->hash.reset();
    return std::move(e).with_context("append to job " + std::to_string(job) + " log");
  };
  if (max_bytes_ == 0 || (log->tail.empty() && log->head_size + data.size() <= head_limit_)) {
    Status st = write_all(log->head_fd.get(), data, log->head_path, log->head_size);
    if (!st.ok()) return context(std::move(st).error());
  } else {
    if (log->tail.empty()) {
      size_t head_part =
          static_cast<size_t>(head_limit_ > log->head_size ? head_limit_ - log->head_size : 0);
      head_part = std::min(head_part, data.size());
      if (head_part > 0) {
        Status st = write_all(log->head_fd.get(), data.substr(0, head_part), log->head_path,
                              log->head_size);
        if (!st.ok()) return context(std::move(st).error());
        data.remove_prefix(head_part);
      }
    }
    if (!data.empty()) {
      if (log->tail.empty() || log->tail.back().size >= tail_keep_) {
        if (Status st = start_segment(*log); !st.ok()) return context(std::move(st).error());
      }
      Log::Segment& seg = log->tail.back();
      Status st = write_all(log->tail_fd.get(), data, seg.path, seg.size);
      if (!st.ok()) return context(std::move(st).error());
    }
  }
  if (hashed) {
    log->hash->update(all);
  } else {
    log->hash.reset();
  }
  return AppendResult{true, log->size()};
}

// Starts a tail segment at the log's end. The kept tail is the newest segment and the full one
// before it (at least tail_keep_ bytes); older ones are removed.
Status LogStore::start_segment(Log& log) {
  uint64_t base = log.size();
  Log::Segment seg{join_path(log.job_dir, std::to_string(log.attempt) + ".tail." +
                                              std::to_string(base)),
                   base, 0};
  GANTRY_ASSIGN_OR_RETURN(log.tail_fd, open_append(seg.path, seg.size));
  if (seg.size != 0) {
    return Error(ErrorCode::kInternal, "log segment '" + seg.path + "' is not empty");
  }
  log.tail.push_back(std::move(seg));
  while (log.tail.size() > 2) {
    if (::unlink(log.tail.front().path.c_str()) != 0 && errno != ENOENT) {
      return sys_error("remove '" + log.tail.front().path + "'");
    }
    log.tail.erase(log.tail.begin());
  }
  return ok_status();
}

Result<uint64_t> LogStore::size(int64_t job, int attempt) {
  GANTRY_ASSIGN_OR_RETURN(auto log, open(job, attempt));
  std::lock_guard lock(log->mu);
  return log->size();
}

Result<LogRead> LogStore::read(int64_t job, int attempt, uint64_t offset, size_t limit) {
  GANTRY_ASSIGN_OR_RETURN(auto log, open(job, attempt));
  std::lock_guard lock(log->mu);
  LogRead out;
  out.size = log->size();
  out.next_offset = offset;
  if (offset >= out.size || limit == 0) {
    out.next_offset = std::min(offset, out.size);
    return out;
  }
  if (offset < log->head_size) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(limit, log->head_size - offset));
    GANTRY_ASSIGN_OR_RETURN(out.data, pread_range(log->head_path, offset, n));
    out.next_offset = offset + out.data.size();
    return out;
  }
  // In the tail, or in the cut between head and tail.
  if (offset < log->tail.front().base) {
    out.data = cut_marker(log->tail.front().base - log->head_size, max_bytes_);
    offset = log->tail.front().base;
  }
  for (const auto& seg : log->tail) {
    if (offset >= seg.base + seg.size) continue;
    size_t room = limit > out.data.size() ? limit - out.data.size() : 0;
    if (room == 0) break;
    size_t n = static_cast<size_t>(std::min<uint64_t>(room, seg.base + seg.size - offset));
    GANTRY_ASSIGN_OR_RETURN(std::string bytes, pread_range(seg.path, offset - seg.base, n));
    out.data += bytes;
    offset += bytes.size();
    if (bytes.size() < n) break;
  }
  out.next_offset = offset;
  return out;
}

Result<std::optional<std::string>> LogStore::sha256(int64_t job, int attempt) {
  GANTRY_ASSIGN_OR_RETURN(auto log, open(job, attempt));
  std::lock_guard lock(log->mu);
  if (!log->tail.empty() && log->tail.front().base != log->head_size) {
    return std::optional<std::string>();
  }
  if (log->hash) {
    // Finishing ends the running hash; appends after this (none are expected: the attempt has
    // ended) fall back to reading the files.
    if (log->hash_hex.empty()) log->hash_hex = log->hash->finish_hex();
    return std::optional<std::string>(log->hash_hex);
  }
  Sha256 hash;
  std::vector<const std::string*> paths{&log->head_path};
  for (const auto& seg : log->tail) paths.push_back(&seg.path);
  std::string buf(1 << 16, '\0');
  for (const std::string* path : paths) {
    UniqueFd fd(::open(path->c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return sys_error("open '" + *path + "'");
    for (;;) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys_error("read '" + *path + "'");
      }
      if (n == 0) break;
      hash.update(buf.data(), static_cast<size_t>(n));
    }
  }
  return std::optional<std::string>(hash.finish_hex());
}

}  // namespace gantry::controller
