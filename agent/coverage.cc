#include "agent/coverage.h"

#include <cctype>
#include <cstdlib>

#include "agent/run_output.h"  // strip_ansi

namespace gantry::agent {

namespace {
constexpr size_t kMaxLine = 64 * 1024;
}

Result<CoverageScanner> CoverageScanner::make(std::string_view literal) {
  auto re = schema::Regex::from_literal(literal);
  if (!re.ok())
    return std::move(re).error().with_context("coverage '" + std::string(literal) + "'");
  return CoverageScanner(std::move(re).value());
}

void CoverageScanner::feed(std::string_view chunk) {
  while (!chunk.empty()) {
    size_t nl = chunk.find('\n');
    std::string_view part = chunk.substr(0, nl);
    if (!overlong_) {
      size_t room = kMaxLine - line_.size();
      if (part.size() > room) {
        line_.append(part.substr(0, room));
        overlong_ = true;
      } else {
        line_.append(part);
      }
    }
    if (nl == std::string_view::npos) return;
    scan_line();
    chunk.remove_prefix(nl + 1);
  }
}

void CoverageScanner::finish() {
  if (!line_.empty()) scan_line();
}

void CoverageScanner::scan_line() {
  std::string clean = strip_ansi(line_);
  if (!clean.empty() && clean.back() == '\r') clean.pop_back();
  std::vector<std::string> matches = re_.scan(clean);
  if (!matches.empty()) {
    if (auto n = first_number(matches.back())) value_ = n;
  }
  line_.clear();
  overlong_ = false;
}

std::optional<double> first_number(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) continue;
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j + 1 < text.size() && text[j] == '.' &&
        std::isdigit(static_cast<unsigned char>(text[j + 1]))) {
      ++j;
      while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    }
    return std::strtod(std::string(text.substr(i, j - i)).c_str(), nullptr);
  }
  return std::nullopt;
}

}  // namespace gantry::agent
