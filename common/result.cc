#include "common/result.h"

#include <cstring>

namespace gantry {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kAlreadyExists: return "already exists";
    case ErrorCode::kFailedPrecondition: return "failed precondition";
    case ErrorCode::kPermissionDenied: return "permission denied";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kDeadlineExceeded: return "deadline exceeded";
    case ErrorCode::kCancelled: return "cancelled";
    case ErrorCode::kResourceExhausted: return "resource exhausted";
    case ErrorCode::kUnimplemented: return "unimplemented";
    case ErrorCode::kIo: return "i/o error";
  }
  return "unknown";
}

int exit_code_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kUnimplemented: return 2;
    case ErrorCode::kNotFound: return 3;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition: return 4;
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kUnauthenticated: return 5;
    case ErrorCode::kUnavailable:
    case ErrorCode::kDeadlineExceeded: return 6;
    case ErrorCode::kCancelled: return 130;
    default: return 1;
  }
}

ErrorCode error_code_from_errno(int err) {
  switch (err) {
    case ENOENT: case ESRCH: case ENODEV: case ENXIO: return ErrorCode::kNotFound;
    case EEXIST: case EBUSY: return ErrorCode::kAlreadyExists;
    case EPERM: case EACCES: case EROFS: return ErrorCode::kPermissionDenied;
    case EINVAL: case ENOTDIR: case EISDIR: case ENAMETOOLONG: case ELOOP:
      return ErrorCode::kInvalidArgument;
    case ETIMEDOUT: return ErrorCode::kDeadlineExceeded;
    case EAGAIN: case ECONNREFUSED: case ECONNRESET: case EHOSTUNREACH: case ENETUNREACH:
      return ErrorCode::kUnavailable;
    case ENOSPC: case ENOMEM: case EMFILE: case ENFILE: case EDQUOT:
      return ErrorCode::kResourceExhausted;
    case ENOSYS: case EOPNOTSUPP: return ErrorCode::kUnimplemented;
    case ECANCELED: case EINTR: return ErrorCode::kCancelled;
    default: return ErrorCode::kIo;
  }
}

Error Error::with_context(std::string_view context) const& {
  Error copy = *this;
  return std::move(copy).with_context(context);
}

Error&& Error::with_context(std::string_view context) && {
  std::string m;
  m.reserve(context.size() + 2 + message_.size());
  m.append(context).append(": ").append(message_);
  message_ = std::move(m);
  return std::move(*this);
}

Error sys_error(std::string_view what, int err) {
  std::string m(what);
  std::string reason = std::strerror(err);
  // "No such file or directory" -> "no such file or directory": messages are lowercase.
  if (!reason.empty() && reason[0] >= 'A' && reason[0] <= 'Z' &&
      !(reason.size() > 1 && reason[1] >= 'A' && reason[1] <= 'Z')) {
    reason[0] = static_cast<char>(reason[0] - 'A' + 'a');
  }
  m.append(": ").append(reason);
  return Error(error_code_from_errno(err), std::move(m), err);
}

void check_failed(const char* expr, const char* file, int line, std::string_view msg) {
  std::fprintf(stderr, "gantry: check failed at %s:%d: %s%s%.*s\n", file, line, expr,
               msg.empty() ? "" : ": ", static_cast<int>(msg.size()), msg.data());
  std::abort();
}

}  // namespace gantry
