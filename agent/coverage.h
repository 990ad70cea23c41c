// CoverageScanner: GitLab's `coverage:` keyword. Reads a job's log as it streams, line by line
// (ANSI colour sequences removed). As GitLab does, a line's value is the first number ("87",
// "87.5") in its last match — or in the last capture group of it when the regex has groups —
// and the last line of the log that has a value wins. Lines are capped at 64 KiB (the rest of
// an overlong line is ignored). One object per job; not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "pipeline-schema/regex.h"

namespace gantry::agent {

class CoverageScanner {
 public:
  // `literal` is the keyword's `/pattern/flags`; kInvalidArgument when it is not one.
  static Result<CoverageScanner> make(std::string_view literal);

  void feed(std::string_view chunk);
  void finish();  // the last line, when the log does not end with a newline
  std::optional<double> value() const { return value_; }

 private:
  explicit CoverageScanner(schema::Regex re) : re_(std::move(re)) {}
  void scan_line();

  schema::Regex re_;
  std::string line_;
  bool overlong_ = false;
  std::optional<double> value_;
};

// The first unsigned decimal number in `text` ("Coverage: 87.50%" → 87.5), or nullopt.
std::optional<double> first_number(std::string_view text);

}  // namespace gantry::agent
