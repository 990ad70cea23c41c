#include "pipeline-schema/glob.h"

#include <string>
#include <vector>

namespace gantry::schema {

namespace {

// Expands the first `{a,b,...}` group (recursively), giving brace-free patterns.
void expand_braces(const std::string& pattern, std::vector<std::string>& out) {
  size_t open = pattern.find('{');
  if (open == std::string::npos) {
    out.push_back(pattern);
    return;
  }
  int depth = 0;
  size_t close = std::string::npos;
  std::vector<size_t> commas;
  for (size_t i = open; i < pattern.size(); ++i) {
    if (pattern[i] == '{') ++depth;
    if (pattern[i] == '}' && --depth == 0) {
      close = i;
      break;
    }
    if (pattern[i] == ',' && depth == 1) commas.push_back(i);
  }
  if (close == std::string::npos) {
    out.push_back(pattern);  // unbalanced: literal
    return;
  }
  std::string head = pattern.substr(0, open);
  std::string tail = pattern.substr(close + 1);
  size_t start = open + 1;
  commas.push_back(close);
  for (size_t c : commas) {
    expand_braces(head + pattern.substr(start, c - start) + tail, out);
    start = c + 1;
  }
}

bool match_class(std::string_view p, size_t& pi, char c) {
  // p[pi] == '['
  size_t i = pi + 1;
  bool negate = false;
  if (i < p.size() && (p[i] == '!' || p[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (i < p.size() && (first || p[i] != ']')) {
    first = false;
    char lo = p[i];
    if (lo == '\\' && i + 1 < p.size()) lo = p[++i];
    char hi = lo;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      hi = p[i + 2];
      i += 2;
    }
    if (lo <= c && c <= hi) matched = true;
    ++i;
  }
  if (i >= p.size()) return false;  // no closing ']'
  pi = i + 1;
  return matched != negate;
}

bool match(std::string_view p, std::string_view s) {
  size_t pi = 0;
  size_t si = 0;
  while (pi < p.size()) {
    // `**/` matches zero or more whole directories.
    if (p.substr(pi, 3) == "**/" && (pi == 0 || p[pi - 1] == '/')) {
      std::string_view rest = p.substr(pi + 3);
      size_t k = si;
      while (true) {
        if (match(rest, s.substr(k))) return true;
        size_t slash = s.find('/', k);
        if (slash == std::string_view::npos) return false;
        k = slash + 1;
      }
    }
    char c = p[pi];
    if (c == '*') {
      while (pi < p.size() && p[pi] == '*') ++pi;
      std::string_view rest = p.substr(pi);
      for (size_t k = si;; ++k) {
        if (match(rest, s.substr(k))) return true;
        if (k >= s.size() || s[k] == '/') return false;
      }
    }
    if (si >= s.size()) return false;
    if (c == '?') {
      if (s[si] == '/') return false;
      ++pi;
      ++si;
      continue;
    }
    if (c == '[') {
      if (s[si] == '/') return false;
      size_t save = pi;
      if (match_class(p, pi, s[si])) {
        ++si;
        continue;
      }
      if (pi != save) return false;
      // Unclosed '[' is a literal.
      if (s[si] != '[') return false;
      ++pi;
      ++si;
      continue;
    }
    if (c == '\\' && pi + 1 < p.size()) {
      ++pi;
      c = p[pi];
    }
    if (s[si] != c) return false;
    ++pi;
    ++si;
  }
  return si == s.size();
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  if (pattern.substr(0, 2) == "./") pattern.remove_prefix(2);
  if (path.substr(0, 2) == "./") path.remove_prefix(2);
  std::vector<std::string> patterns;
  expand_braces(std::string(pattern), patterns);
  for (const auto& p : patterns) {
    if (match(p, path)) return true;
  }
  return false;
}

}  // namespace gantry::schema
