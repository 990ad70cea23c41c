#include "pipeline-schema/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace gantry::schema {

std::string SourceLocation::str() const {
  if (!known()) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string Diagnostic::render() const {
  return loc.str() + (severity == Severity::kError ? ": error: " : ": warning: ") + message;
}

void Diagnostics::error(const SourceLocation& loc, std::string message) {
  add({Severity::kError, loc, std::move(message)});
}

void Diagnostics::warning(const SourceLocation& loc, std::string message) {
  add({Severity::kWarning, loc, std::move(message)});
}

void Diagnostics::add(Diagnostic d) {
  if (d.severity == Severity::kError) ++errors_;
  list_.push_back(std::move(d));
}

void Diagnostics::append(const Diagnostics& other) {
  for (const auto& d : other.list_) add(d);
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> out = list_;
  auto key = [](const Diagnostic& d) {
    return std::tie(d.loc.file, d.loc.line, d.loc.column, d.severity, d.message);
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
  // The same template reached through several aliases or `extends` chains can report the same
  // mistake at the same place more than once; say it once.
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string Diagnostics::render() const {
  std::string out;
  for (const auto& d : sorted()) {
    out += d.render();
    out += '\n';
  }
  return out;
}

}  // namespace gantry::schema
