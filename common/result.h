// Result<T> and Error: how every library function in Gantry reports failure.
// A small std::expected-like type (C++20 has none). Errors carry a code, the errno that caused
// them (0 if none) and a message written as a chain of context, lowercase, names in quotes:
//   "create container 'job-42': mount overlay at '/var/lib/…/rootfs': invalid argument".
// Values, not exceptions; thread-compatible (no shared state).
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace gantry {

enum class ErrorCode {
  kInternal,          // a bug or an impossible state
  kInvalidArgument,   // the caller's input is wrong (bad id, bad flag, malformed config)
  kNotFound,          // a named thing does not exist
  kAlreadyExists,     // a named thing exists already (id in use)
  kFailedPrecondition,  // the thing is in the wrong state (start of a running container)
  kPermissionDenied,  // not allowed (EPERM, EACCES, 403)
  kUnauthenticated,   // missing or wrong credentials (401)
  kUnavailable,       // transient: retry may succeed (network, registry down)
  kDeadlineExceeded,  // a timeout struck
  kCancelled,         // stopped on request
  kResourceExhausted, // a limit was hit (disk, size cap, OOM)
  kUnimplemented,     // valid input that Gantry does not support
  kIo,                // an OS call failed for another reason
};

std::string_view error_code_name(ErrorCode code);

// The process exit code for an error reaching main(): one place, see cli/main.cc.
int exit_code_for(ErrorCode code);

// The error code that best describes an errno value.
ErrorCode error_code_from_errno(int err);

class [[nodiscard]] Error {
 public:
  Error(ErrorCode code, std::string message, int sys_errno = 0)
      : code_(code), sys_errno_(sys_errno), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  int sys_errno() const { return sys_errno_; }
  const std::string& message() const { return message_; }

  // Prepends context: Error("x").with_context("load 'a'") reads "load 'a': x".
  Error with_context(std::string_view context) const&;
  Error&& with_context(std::string_view context) &&;

 private:
  ErrorCode code_;
  int sys_errno_;
  std::string message_;
};

// An error from a failed OS call: "<what>: <strerror(err)>", code derived from errno.
Error sys_error(std::string_view what, int err = errno);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  template <typename U>
    requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::decay_t<U>, T> &&
             !std::is_same_v<std::decay_t<U>, Error> && !std::is_same_v<std::decay_t<U>, Result>)
  Result(U&& value) : v_(std::in_place_index<0>, T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { check_ok(); return std::get<0>(v_); }
  const T& value() const& { check_ok(); return std::get<0>(v_); }
  T&& value() && { check_ok(); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { check_error(); return std::get<1>(v_); }
  Error&& error() && { check_error(); return std::get<1>(std::move(v_)); }

  T value_or(T fallback) const& { return ok() ? std::get<0>(v_) : std::move(fallback); }

 private:
  void check_ok() const;
  void check_error() const;
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  void value() const;
  const Error& error() const& { return *error_; }
  Error&& error() && { return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;
inline Status ok_status() { return {}; }

[[noreturn]] void check_failed(const char* expr, const char* file, int line, std::string_view msg);

template <typename T>
void Result<T>::check_ok() const {
  if (!ok()) check_failed("ok()", __FILE__, __LINE__, std::get<1>(v_).message());
}
template <typename T>
void Result<T>::check_error() const {
  if (ok()) check_failed("!ok()", __FILE__, __LINE__, "error() on a value");
}
inline void Result<void>::value() const {
  if (!ok()) check_failed("ok()", __FILE__, __LINE__, error_->message());
}

}  // namespace gantry

// Program bugs abort; likely failures are Results.
#define GANTRY_CHECK(cond)                                                   \
  do {                                                                       \
    if (!(cond)) ::gantry::check_failed(#cond, __FILE__, __LINE__, "");      \
  } while (0)

#define GANTRY_CONCAT_INNER(a, b) a##b
#define GANTRY_CONCAT(a, b) GANTRY_CONCAT_INNER(a, b)

// GANTRY_TRY(expr): return the error of a Result/Status expression, if any.
#define GANTRY_TRY(expr)                                                          \
  do {                                                                            \
    auto&& gantry_try_result_ = (expr);                                           \
    if (!gantry_try_result_.ok()) return std::move(gantry_try_result_).error();   \
  } while (0)

// GANTRY_ASSIGN_OR_RETURN(lhs, expr): `lhs = value of expr`, or return its error.
#define GANTRY_ASSIGN_OR_RETURN(lhs, expr) \
  GANTRY_ASSIGN_OR_RETURN_IMPL(GANTRY_CONCAT(gantry_result_, __LINE__), lhs, expr)
#define GANTRY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).error();      \
  lhs = std::move(tmp).value()
