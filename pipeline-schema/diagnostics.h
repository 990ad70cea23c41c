// Diagnostics: every problem found while loading a pipeline, collected rather than thrown, so the
// user sees all mistakes at once. Rendered GCC-style: `file:line:col: error: message`.
// Messages are lowercase and name things in quotes. Not thread-safe (one per load).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "pipeline-schema/source_location.h"

namespace gantry::schema {

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  SourceLocation loc;
  std::string message;

  // "file:line:col: error: message" (or "warning").
  std::string render() const;
  bool operator==(const Diagnostic&) const = default;
};

class Diagnostics {
 public:
  void error(const SourceLocation& loc, std::string message);
  void warning(const SourceLocation& loc, std::string message);
  void add(Diagnostic d);
  void append(const Diagnostics& other);

  bool has_errors() const { return errors_ > 0; }
  std::size_t error_count() const { return errors_; }
  std::size_t warning_count() const { return list_.size() - errors_; }
  bool empty() const { return list_.empty(); }

  // In the order they were found.
  const std::vector<Diagnostic>& all() const { return list_; }
  // Sorted by file, line, column, then errors before warnings; exact duplicates removed.
  std::vector<Diagnostic> sorted() const;
  // sorted(), one rendered diagnostic per line, each ending in '\n'.
  std::string render() const;

 private:
  std::vector<Diagnostic> list_;
  std::size_t errors_ = 0;
};

}  // namespace gantry::schema
