#include "pipeline-schema/regex.h"

#include <re2/re2.h>

namespace gantry::schema {

struct Regex::Compiled {
  explicit Compiled(const std::string& pattern, const RE2::Options& options)
      : re(pattern, options) {}
  RE2 re;
};

Result<Regex> Regex::compile(std::string_view pattern, std::string_view flags) {
  std::string inline_flags;
  for (char f : flags) {
    if (f != 'i' && f != 'm' && f != 's' && f != 'U') {
      return Error(ErrorCode::kInvalidArgument,
                   "unknown regular expression flag '" + std::string(1, f) +
                       "' (GitLab accepts i, m, s, U)");
    }
    if (inline_flags.find(f) == std::string::npos) inline_flags += f;
  }
  std::string full = inline_flags.empty() ? std::string(pattern)
                                          : "(?" + inline_flags + ")" + std::string(pattern);
  RE2::Options options;
  options.set_log_errors(false);
  auto compiled = std::make_shared<Compiled>(full, options);
  if (!compiled->re.ok()) {
    return Error(ErrorCode::kInvalidArgument, "invalid regular expression '/" +
                                                  std::string(pattern) + "/" + std::string(flags) +
                                                  "': " + compiled->re.error());
  }
  return Regex(std::move(compiled), "/" + std::string(pattern) + "/" + std::string(flags));
}

bool Regex::looks_like_literal(std::string_view literal) {
  if (literal.size() < 3 || literal.front() != '/') return false;
  auto close = literal.rfind('/');
  if (close == 0 || close == 1) return false;
  for (char f : literal.substr(close + 1)) {
    if (f != 'i' && f != 'm' && f != 's' && f != 'U') return false;
  }
  return true;
}

Result<Regex> Regex::from_literal(std::string_view literal) {
  if (!looks_like_literal(literal)) {
    return Error(
        ErrorCode::kInvalidArgument,
        "'" + std::string(literal) + "' is not a regular expression of the form /pattern/flags");
  }
  auto close = literal.rfind('/');
  std::string body;
  std::string_view inner = literal.substr(1, close - 1);
  for (size_t i = 0; i < inner.size(); ++i) {
    if (inner[i] == '\\' && i + 1 < inner.size() && inner[i + 1] == '/') {
      body += '/';
      ++i;
    } else {
      body += inner[i];
    }
  }
  return compile(body, literal.substr(close + 1));
}

bool Regex::search(std::string_view text) const {
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), compiled_->re);
}

std::vector<std::string> Regex::scan(std::string_view text) const {
  const RE2& re = compiled_->re;
  int groups = re.NumberOfCapturingGroups();
  std::vector<re2::StringPiece> sub(static_cast<size_t>(groups) + 1);
  re2::StringPiece input(text.data(), text.size());
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= input.size() &&
         re.Match(input, pos, input.size(), RE2::UNANCHORED, sub.data(), groups + 1)) {
    if (groups == 0) {
      out.emplace_back(sub[0].data(), sub[0].size());
    } else {
      for (int g = 1; g <= groups; ++g) {
        const auto& m = sub[static_cast<size_t>(g)];
        out.emplace_back(m.data() != nullptr ? std::string(m.data(), m.size()) : std::string());
      }
    }
    size_t end = static_cast<size_t>(sub[0].data() - input.data()) + sub[0].size();
    pos = sub[0].empty() ? end + 1 : end;  // an empty match must still move on
  }
  return out;
}

}  // namespace gantry::schema
