#include "pipeline-schema/rules_expr/lexer.h"

#include <cctype>

namespace gantry::schema::rules_expr {

std::string_view token_kind_name(TokenKind kind) {
  switch (kind) {
    case TokenKind::kVariable: return "variable";
    case TokenKind::kString: return "string";
    case TokenKind::kPattern: return "regular expression";
    case TokenKind::kNull: return "'null'";
    case TokenKind::kEquals: return "'=='";
    case TokenKind::kNotEquals: return "'!='";
    case TokenKind::kMatches: return "'=~'";
    case TokenKind::kNotMatches: return "'!~'";
    case TokenKind::kAnd: return "'&&'";
    case TokenKind::kOr: return "'||'";
    case TokenKind::kLeftParen: return "'('";
    case TokenKind::kRightParen: return "')'";
  }
  return "token";
}

namespace {

bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// A regex literal starts at `/` and ends at the next `/` that is not escaped by `\`; flags
// follow. GitLab's lexer is a regex with the same effect.
bool scan_pattern(std::string_view text, size_t start, size_t& end) {
  size_t i = start + 1;
  while (i < text.size()) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      i += 2;
      continue;
    }
    if (text[i] == '/') break;
    ++i;
  }
  if (i >= text.size() || i == start + 1) return false;
  ++i;
  while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
  end = i;
  return true;
}

}  // namespace

std::variant<std::vector<Token>, SyntaxError> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  auto two = [&](std::string_view op) { return text.substr(i, 2) == op; };
  while (i < text.size()) {
    char c = text[i];
    int column = static_cast<int>(i) + 1;
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (tokens.size() >= kMaxTokens) {
      return SyntaxError{column, "expression has more than " + std::to_string(kMaxTokens) +
                                     " tokens"};
    }
    if (c == '$') {
      if (i + 1 < text.size() && text[i + 1] == '{') {
        return SyntaxError{column, "'${...}' is not allowed in an expression, write '$NAME'"};
      }
      size_t j = i + 1;
      while (j < text.size() && is_word(text[j])) ++j;
      if (j == i + 1) return SyntaxError{column, "'$' must be followed by a variable name"};
      tokens.push_back({TokenKind::kVariable, std::string(text.substr(i + 1, j - i - 1)), column});
      i = j;
    } else if (c == '"' || c == '\'') {
      auto close = text.find(c, i + 1);
      if (close == std::string_view::npos) {
        return SyntaxError{column, "unterminated string"};
      }
      tokens.push_back(
          {TokenKind::kString, std::string(text.substr(i + 1, close - i - 1)), column});
      i = close + 1;
    } else if (c == '/') {
      size_t end = 0;
      if (!scan_pattern(text, i, end)) {
        return SyntaxError{column, "unterminated regular expression"};
      }
      tokens.push_back({TokenKind::kPattern, std::string(text.substr(i, end - i)), column});
      i = end;
    } else if (two("==")) {
      tokens.push_back({TokenKind::kEquals, "==", column});
      i += 2;
    } else if (two("!=")) {
      tokens.push_back({TokenKind::kNotEquals, "!=", column});
      i += 2;
    } else if (two("=~")) {
      tokens.push_back({TokenKind::kMatches, "=~", column});
      i += 2;
    } else if (two("!~")) {
      tokens.push_back({TokenKind::kNotMatches, "!~", column});
      i += 2;
    } else if (two("&&")) {
      tokens.push_back({TokenKind::kAnd, "&&", column});
      i += 2;
    } else if (two("||")) {
      tokens.push_back({TokenKind::kOr, "||", column});
      i += 2;
    } else if (c == '(') {
      tokens.push_back({TokenKind::kLeftParen, "(", column});
      ++i;
    } else if (c == ')') {
      tokens.push_back({TokenKind::kRightParen, ")", column});
      ++i;
    } else if (text.substr(i, 4) == "null" && (i + 4 == text.size() || !is_word(text[i + 4]))) {
      tokens.push_back({TokenKind::kNull, "null", column});
      i += 4;
    } else {
      size_t j = i;
      while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j])) &&
             j - i < 20) {
        ++j;
      }
      std::string word(text.substr(i, j - i));
      std::string hint;
      if (c == '=' ) hint = " (use '==' to compare)";
      else if (c == '&' || c == '|') hint = " (use '&&' or '||')";
      else if (std::isalpha(static_cast<unsigned char>(c)))
        hint = " (quote strings, prefix variables with '$')";
      return SyntaxError{column, "unexpected '" + word + "'" + hint};
    }
  }
  return tokens;
}

}  // namespace gantry::schema::rules_expr
