// The parser of CI/CD variable expressions: tokens → an immutable syntax tree. Precedence as in
// GitLab, loosest first: `||`, `&&`, then the comparisons `==` `!=` `=~` `!~` (all
// left-associative); parentheses group. Regex literals are compiled here, so a bad pattern is a
// syntax error at its column. PURE; an Expression is immutable and shareable between threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pipeline-schema/regex.h"
#include "pipeline-schema/rules_expr/lexer.h"

namespace gantry::schema::rules_expr {

enum class NodeKind {
  kVariable,
  kString,
  kPattern,
  kNull,
  kEquals,
  kNotEquals,
  kMatches,
  kNotMatches,
  kAnd,
  kOr,
};

struct Node {
  NodeKind kind;
  std::string text;              // variable name, string contents or pattern literal
  std::optional<Regex> pattern;  // compiled, for kPattern
  std::unique_ptr<Node> left;    // operators only
  std::unique_ptr<Node> right;
  int column = 0;                // 1-based column of the token that made this node
};

class Expression {
 public:
  explicit Expression(std::shared_ptr<const Node> root, std::string text)
      : root_(std::move(root)), text_(std::move(text)) {}
  const Node& root() const { return *root_; }
  const std::string& text() const { return text_; }

  // Names of the variables the expression reads, in order of appearance, without repeats.
  std::vector<std::string> variable_names() const;

 private:
  std::shared_ptr<const Node> root_;
  std::string text_;
};

// Parses `text`, or returns the first syntax error with its 1-based column. An empty or
// whitespace-only expression is an error.
std::variant<Expression, SyntaxError> parse(std::string_view text);

}  // namespace gantry::schema::rules_expr
