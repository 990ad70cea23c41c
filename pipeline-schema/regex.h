// Regex: the one regular-expression type of pipeline evaluation (`rules:if` `=~`, `only`/`except`
// refs). GitLab evaluates these patterns with RE2, so Gantry does too: same syntax, same
// limits (no backreferences, no lookaround), linear time on untrusted input. This header keeps
// RE2 out of every other file. A compiled Regex is immutable and safe to share between threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace gantry::schema {

class Regex {
 public:
  // Compiles `pattern` with GitLab's flag letters: i (case-insensitive), m (multi-line),
  // s (dot matches newline), U (ungreedy). Unknown flags or a bad pattern are kInvalidArgument.
  static Result<Regex> compile(std::string_view pattern, std::string_view flags = "");

  // Parses GitLab's `/pattern/flags` form (a `\/` inside stands for `/`). Not-a-literal or a bad
  // pattern is kInvalidArgument.
  static Result<Regex> from_literal(std::string_view literal);

  // True if `literal` has the `/pattern/flags` shape (whether or not the pattern compiles).
  static bool looks_like_literal(std::string_view literal);

  // True if the pattern matches anywhere in `text` (unanchored, like Ruby's `=~`).
  bool search(std::string_view text) const;

  // Every non-overlapping match in `text`, left to right, as Ruby's String#scan reports it
  // flattened: the match itself when the pattern has no capture groups, else each group's text
  // (an unmatched group is ""). For extracting values (`coverage:`).
  std::vector<std::string> scan(std::string_view text) const;

  // The pattern and flags as written.
  const std::string& source() const { return source_; }

 private:
  struct Compiled;
  Regex(std::shared_ptr<const Compiled> compiled, std::string source)
      : compiled_(std::move(compiled)), source_(std::move(source)) {}
  std::shared_ptr<const Compiled> compiled_;
  std::string source_;
};

}  // namespace gantry::schema
