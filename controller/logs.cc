#include "controller/logs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/digest.h"
#include "common/file.h"
#include "common/unique_fd.h"

namespace gantry::controller {

struct LogStore::Log {
  std::mutex mu;
  std::string job_dir;
  std::string head_path;
  UniqueFd head_fd;
  uint64_t head_size = 0;
  std::string tail_path;  // "" while there is no tail
  UniqueFd tail_fd;
  uint64_t tail_base = 0;  // logical offset of the tail file's first byte
  uint64_t tail_size = 0;
  int attempt = 0;

  uint64_t size() const { return tail_path.empty() ? head_size : tail_base + tail_size; }
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
  // The tail with the highest base is the current one; others are leftovers of a compaction
  // that a crash interrupted after the new tail was in place.
  GANTRY_ASSIGN_OR_RETURN(auto names, list_dir(log->job_dir));
  std::string prefix = std::to_string(attempt) + ".tail.";
  uint64_t best = 0;
  std::string best_name;
  for (const auto& name : names) {
    if (name.rfind(prefix, 0) != 0) continue;
    std::string rest = name.substr(prefix.size());
    if (rest.empty() || rest.find_first_not_of("0123456789") != std::string::npos) {
      ::unlink(join_path(log->job_dir, name).c_str());  // an unfinished compaction (.tmp)
      continue;
    }
    uint64_t base = std::stoull(rest);
    if (best_name.empty() || base > best) {
      if (!best_name.empty()) ::unlink(join_path(log->job_dir, best_name).c_str());
      best = base;
      best_name = name;
    } else {
      ::unlink(join_path(log->job_dir, name).c_str());
    }
  }
  if (!best_name.empty()) {
    log->tail_path = join_path(log->job_dir, best_name);
    log->tail_base = best;
    GANTRY_ASSIGN_OR_RETURN(log->tail_fd, open_append(log->tail_path, log->tail_size));
  }
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
  if (max_bytes_ == 0 || (log->tail_path.empty() && log->head_size + data.size() <= head_limit_)) {
    Status st = write_all(log->head_fd.get(), data, log->head_path, log->head_size);
    if (!st.ok()) return std::move(st).error().with_context("append to job " + std::to_string(job) + " log");
    return AppendResult{true, log->size()};
  }
  if (log->tail_path.empty()) {
    size_t head_part = static_cast<size_t>(head_limit_ > log->head_size ? head_limit_ - log->head_size : 0);
    head_part = std::min(head_part, data.size());
    if (head_part > 0) {
      GANTRY_TRY(write_all(log->head_fd.get(), data.substr(0, head_part), log->head_path,
                           log->head_size));
      data.remove_prefix(head_part);
    }
    if (data.empty()) return AppendResult{true, log->size()};
    log->tail_base = log->head_size;
    log->tail_path = join_path(log->job_dir, std::to_string(attempt) + ".tail." +
                                                 std::to_string(log->tail_base));
    GANTRY_ASSIGN_OR_RETURN(log->tail_fd, open_append(log->tail_path, log->tail_size));
  }
  GANTRY_TRY(write_all(log->tail_fd.get(), data, log->tail_path, log->tail_size));
  if (log->tail_size > 2 * tail_keep_) GANTRY_TRY(compact_tail(*log));
  return AppendResult{true, log->size()};
}

// Keeps the last tail_keep_ bytes: a new tail file under its new base, renamed into place,
// then the old one removed (open() settles a crash in between).
Status LogStore::compact_tail(Log& log) {
  uint64_t drop = log.tail_size - tail_keep_;
  GANTRY_ASSIGN_OR_RETURN(std::string keep, pread_range(log.tail_path, drop, tail_keep_));
  uint64_t new_base = log.tail_base + drop;
  std::string new_path = join_path(log.job_dir, std::to_string(log.attempt) + ".tail." +
                                                    std::to_string(new_base));
  GANTRY_TRY(write_file_atomic(new_path, keep, 0640));
  std::string old_path = log.tail_path;
  uint64_t new_size = 0;
  GANTRY_ASSIGN_OR_RETURN(log.tail_fd, open_append(new_path, new_size));
  log.tail_path = new_path;
  log.tail_base = new_base;
  log.tail_size = new_size;
  if (::unlink(old_path.c_str()) != 0) return sys_error("remove '" + old_path + "'");
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
  if (offset < log->tail_base) {
    out.data = cut_marker(log->tail_base - log->head_size, max_bytes_);
    offset = log->tail_base;
  }
  size_t room = limit > out.data.size() ? limit - out.data.size() : 0;
  size_t n = static_cast<size_t>(std::min<uint64_t>(room, log->tail_base + log->tail_size - offset));
  GANTRY_ASSIGN_OR_RETURN(std::string bytes, pread_range(log->tail_path, offset - log->tail_base, n));
  out.data += bytes;
  out.next_offset = offset + bytes.size();
  return out;
}

Result<std::optional<std::string>> LogStore::sha256(int64_t job, int attempt) {
  GANTRY_ASSIGN_OR_RETURN(auto log, open(job, attempt));
  std::lock_guard lock(log->mu);
  if (!log->tail_path.empty() && log->tail_base != log->head_size) {
    return std::optional<std::string>();
  }
  Sha256 hash;
  for (const std::string* path : {&log->head_path, &log->tail_path}) {
    if (path->empty()) continue;
    UniqueFd fd(::open(path->c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return sys_error("open '" + *path + "'");
    std::string buf(1 << 16, '\0');
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
