#include "agent/remote/log_uploader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

namespace gantry::agent {

namespace {

bool is_transient(const Error& e) {
  return e.code() == ErrorCode::kUnavailable || e.code() == ErrorCode::kDeadlineExceeded;
}

}  // namespace

Result<std::unique_ptr<LogUploader>> LogUploader::start(const std::string& spool_path,
                                                        LogAppender& appender,
                                                        LogUploaderOptions options) {
  UniqueFd fd(::open(spool_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600));
  if (!fd) return sys_error("create log spool '" + spool_path + "'");
  std::unique_ptr<LogUploader> up(
      new LogUploader(spool_path, std::move(fd), appender, std::move(options)));
  up->thread_ = std::jthread([p = up.get()](std::stop_token stop) { p->run(stop); });
  return up;
}

LogUploader::LogUploader(std::string spool_path, UniqueFd fd, LogAppender& appender,
                         LogUploaderOptions options)
    : spool_path_(std::move(spool_path)),
      fd_(std::move(fd)),
      appender_(appender),
      options_(std::move(options)) {}

LogUploader::~LogUploader() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

Status LogUploader::write(std::string_view data) {
  if (data.empty()) return ok_status();
  std::lock_guard lock(mu_);
  if (closed_)
    return Error(ErrorCode::kInternal, "log spool '" + spool_path_ + "': write after finish");
  std::string_view rest = data;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_.get(), rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      // What was written stays counted, so the spool and the count agree.
      return sys_error("write log spool '" + spool_path_ + "'");
    }
    sha_.update(rest.substr(0, static_cast<size_t>(n)));
    written_ += static_cast<uint64_t>(n);
    rest.remove_prefix(static_cast<size_t>(n));
  }
  cv_.notify_all();
  return ok_status();
}

Result<std::string> LogUploader::read_spool(uint64_t offset, size_t size) const {
  std::string buf(size, '\0');
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd_.get(), buf.data() + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read log spool '" + spool_path_ + "'");
    }
    if (n == 0) return Error(ErrorCode::kInternal, "log spool '" + spool_path_ + "' is short");
    got += static_cast<size_t>(n);
  }
  return buf;
}

void LogUploader::run(std::stop_token stop) {
  Backoff backoff(options_.backoff);
  std::unique_lock lock(mu_);
  while (!stop.stop_requested() && !failure_) {
    if (acked_ >= written_) {
      cv_.wait(lock, stop, [&] { return written_ > acked_; });
      continue;
    }
    if (written_ - acked_ < options_.max_chunk && !closed_) {
      // Output after a quiet spell (a job's first line, a line after a pause) goes at once;
      // while output keeps coming, a partial chunk goes at most once per flush_interval, so
      // a chatty job is not one request per line.
      auto since = std::chrono::steady_clock::now() - last_send_;
      if (since < options_.flush_interval) {
        cv_.wait_for(lock, stop,
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         options_.flush_interval - since) +
                         std::chrono::milliseconds(1),
                     [&] { return written_ - acked_ >= options_.max_chunk || closed_; });
        if (stop.stop_requested()) break;
      }
    }
    last_send_ = std::chrono::steady_clock::now();
    uint64_t offset = acked_;
    size_t size = static_cast<size_t>(std::min<uint64_t>(written_ - acked_, options_.max_chunk));
    uint64_t written = written_;
    lock.unlock();
    Result<AppendReply> reply = Error(ErrorCode::kInternal, "unset");
    auto data = read_spool(offset, size);
    if (data.ok()) {
      reply = appender_.append(offset, *data);
    } else {
      reply = data.error();
    }
    if (!reply.ok() && is_transient(reply.error())) {
      options_.wait(backoff.next(), stop);
      lock.lock();
      continue;
    }
    lock.lock();
    if (!reply.ok()) {
      failure_ = reply.error().with_context("upload log at offset " + std::to_string(offset));
      break;
    }
    backoff.reset();
    uint64_t length = reply->length;
    if (length > written) {
      failure_ = Error(ErrorCode::kFailedPrecondition,
                       "upload log: the controller has " + std::to_string(length) +
                           " bytes of this log, but the job wrote only " + std::to_string(written));
      break;
    }
    if (!reply->accepted && length == offset) {
      failure_ = Error(ErrorCode::kFailedPrecondition,
                       "upload log: the controller refused an append at its own end (offset " +
                           std::to_string(offset) + ")");
      break;
    }
    acked_ = length;
    cv_.notify_all();
  }
  cv_.notify_all();
}

Result<LogSummary> LogUploader::finish(std::stop_token stop) {
  {
    std::lock_guard lock(mu_);
    if (!closed_) {
      closed_ = true;
      sha_hex_ = sha_.finish_hex();
    }
    cv_.notify_all();
  }
  return wait_uploaded(stop);
}

Result<LogSummary> LogUploader::resend_from(uint64_t offset, std::stop_token stop) {
  {
    std::lock_guard lock(mu_);
    if (!closed_) return Error(ErrorCode::kInternal, "upload log: resend before finish");
    if (offset > written_) {
      return Error(ErrorCode::kFailedPrecondition,
                   "upload log: the controller has " + std::to_string(offset) +
                       " bytes of this log, but the job wrote only " + std::to_string(written_));
    }
    acked_ = offset;
    cv_.notify_all();
  }
  return wait_uploaded(stop);
}

Result<LogSummary> LogUploader::wait_uploaded(std::stop_token stop) {
  // Before the lock: a callback for an already-requested stop runs right here and takes it.
  std::stop_callback on_stop(stop, [this] {
    thread_.request_stop();
    std::lock_guard l(mu_);
    cv_.notify_all();
  });
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] {
    return acked_ == written_ || failure_.has_value() || stop.stop_requested();
  });
  if (failure_) return *failure_;
  if (acked_ != written_) {
    return Error(ErrorCode::kCancelled, "upload log: stopped with " + std::to_string(acked_) +
                                            " of " + std::to_string(written_) + " bytes sent");
  }
  return LogSummary{written_, sha_hex_};
}

uint64_t LogUploader::acknowledged() const {
  std::lock_guard lock(mu_);
  return acked_;
}

}  // namespace gantry::agent
