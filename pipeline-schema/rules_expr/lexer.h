// The tokens of GitLab's CI/CD variable expressions (`rules:if`, `only:variables`,
// `except:variables`): `$VAR`, 'string' / "string" (no escapes, as in GitLab), `/regex/flags`,
// `null`, `==`, `!=`, `=~`, `!~`, `&&`, `||`, parentheses. PURE; used by the parser only.
// Errors carry the 1-based column in the expression so callers can point at the source.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gantry::schema::rules_expr {

enum class TokenKind {
  kVariable,    // text = the name, without `$`
  kString,      // text = the contents, without quotes
  kPattern,     // text = the whole literal, `/.../flags`
  kNull,
  kEquals,      // ==
  kNotEquals,   // !=
  kMatches,     // =~
  kNotMatches,  // !~
  kAnd,         // &&
  kOr,          // ||
  kLeftParen,
  kRightParen,
};

std::string_view token_kind_name(TokenKind kind);

struct Token {
  TokenKind kind;
  std::string text;
  int column;  // 1-based byte column of the token's first character in the expression
};

// A syntax error in an expression: where (1-based column) and what.
struct SyntaxError {
  int column;
  std::string message;
};

// GitLab refuses expressions with more tokens than this.
inline constexpr size_t kMaxTokens = 100;

// Splits `text` into tokens, or the first lexical error (unknown character, unterminated string
// or regex, `${VAR}` which GitLab does not accept in expressions, too many tokens).
std::variant<std::vector<Token>, SyntaxError> tokenize(std::string_view text);

}  // namespace gantry::schema::rules_expr
