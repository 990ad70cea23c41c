// SourceLocation: where something was written in a pipeline file, for diagnostics.
// `file` is the path relative to the project root (".gitlab-ci.yml", "ci/build.yml"); line and
// column are 1-based; line 0 means "the file as a whole". Plain value type, thread-compatible.
#pragma once

#include <compare>
#include <string>

namespace gantry::schema {

struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;

  bool known() const { return line > 0; }
  // "file:line:col", "file" when the line is unknown.
  std::string str() const;
  auto operator<=>(const SourceLocation&) const = default;
};

}  // namespace gantry::schema
