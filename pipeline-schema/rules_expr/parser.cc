#include "pipeline-schema/rules_expr/parser.h"

#include <algorithm>

namespace gantry::schema::rules_expr {

namespace {

// Recursive descent over the token list; the first error wins and stops the parse.
class Parser {
 public:
  Parser(const std::vector<Token>& tokens, int end_column)
      : tokens_(tokens), end_column_(end_column) {}

  std::unique_ptr<Node> parse_all() {
    auto root = parse_or();
    if (!root) return nullptr;
    if (pos_ < tokens_.size()) {
      const Token& t = tokens_[pos_];
      fail(t.column, t.kind == TokenKind::kRightParen
                         ? "unbalanced ')'"
                         : "expected an operator before " + describe(t));
      return nullptr;
    }
    return root;
  }

  const std::optional<SyntaxError>& error() const { return error_; }

 private:
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::kVariable: return "'$" + t.text + "'";
      case TokenKind::kString: return "string \"" + t.text + "\"";
      case TokenKind::kPattern: return "'" + t.text + "'";
      default: return std::string(token_kind_name(t.kind));
    }
  }

  void fail(int column, std::string message) {
    if (!error_) error_ = SyntaxError{column, std::move(message)};
  }

  const Token* peek() const { return pos_ < tokens_.size() ? &tokens_[pos_] : nullptr; }

  static std::unique_ptr<Node> binary(NodeKind kind, int column, std::unique_ptr<Node> left,
                                      std::unique_ptr<Node> right) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->column = column;
    n->left = std::move(left);
    n->right = std::move(right);
    return n;
  }

  std::unique_ptr<Node> parse_or() {
    auto left = parse_and();
    while (left && peek() && peek()->kind == TokenKind::kOr) {
      int column = tokens_[pos_++].column;
      auto right = parse_and();
      if (!right) return nullptr;
      left = binary(NodeKind::kOr, column, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Node> parse_and() {
    auto left = parse_comparison();
    while (left && peek() && peek()->kind == TokenKind::kAnd) {
      int column = tokens_[pos_++].column;
      auto right = parse_comparison();
      if (!right) return nullptr;
      left = binary(NodeKind::kAnd, column, std::move(left), std::move(right));
    }
    return left;
  }

  static std::optional<NodeKind> comparison_kind(TokenKind kind) {
    switch (kind) {
      case TokenKind::kEquals: return NodeKind::kEquals;
      case TokenKind::kNotEquals: return NodeKind::kNotEquals;
      case TokenKind::kMatches: return NodeKind::kMatches;
      case TokenKind::kNotMatches: return NodeKind::kNotMatches;
      default: return std::nullopt;
    }
  }

  std::unique_ptr<Node> parse_comparison() {
    auto left = parse_operand();
    while (left && peek()) {
      auto kind = comparison_kind(peek()->kind);
      if (!kind) break;
      int column = tokens_[pos_++].column;
      auto right = parse_operand();
      if (!right) return nullptr;
      left = binary(*kind, column, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Node> parse_operand() {
    const Token* t = peek();
    if (!t) {
      fail(end_column_, "unexpected end of expression, expected a value");
      return nullptr;
    }
    auto n = std::make_unique<Node>();
    n->column = t->column;
    switch (t->kind) {
      case TokenKind::kVariable:
        n->kind = NodeKind::kVariable;
        n->text = t->text;
        ++pos_;
        return n;
      case TokenKind::kString:
        n->kind = NodeKind::kString;
        n->text = t->text;
        ++pos_;
        return n;
      case TokenKind::kNull:
        n->kind = NodeKind::kNull;
        ++pos_;
        return n;
      case TokenKind::kPattern: {
        auto re = Regex::from_literal(t->text);
        if (!re.ok()) {
          fail(t->column, re.error().message());
          return nullptr;
        }
        n->kind = NodeKind::kPattern;
        n->text = t->text;
        n->pattern = std::move(re).value();
        ++pos_;
        return n;
      }
      case TokenKind::kLeftParen: {
        ++pos_;
        auto inner = parse_or();
        if (!inner) return nullptr;
        if (!peek() || peek()->kind != TokenKind::kRightParen) {
          fail(peek() ? peek()->column : end_column_,
               "missing ')' to close '(' at column " + std::to_string(t->column));
          return nullptr;
        }
        ++pos_;
        return inner;
      }
      default:
        fail(t->column, "expected a value, found " + describe(*t));
        return nullptr;
    }
  }

  const std::vector<Token>& tokens_;
  int end_column_;
  size_t pos_ = 0;
  std::optional<SyntaxError> error_;
};

void collect_names(const Node& n, std::vector<std::string>& out) {
  if (n.kind == NodeKind::kVariable) {
    if (std::find(out.begin(), out.end(), n.text) == out.end()) out.push_back(n.text);
  }
  if (n.left) collect_names(*n.left, out);
  if (n.right) collect_names(*n.right, out);
}

}  // namespace

std::vector<std::string> Expression::variable_names() const {
  std::vector<std::string> out;
  collect_names(*root_, out);
  return out;
}

std::variant<Expression, SyntaxError> parse(std::string_view text) {
  auto lexed = tokenize(text);
  if (auto* err = std::get_if<SyntaxError>(&lexed)) return *err;
  const auto& tokens = std::get<std::vector<Token>>(lexed);
  if (tokens.empty()) return SyntaxError{1, "empty expression"};
  Parser parser(tokens, static_cast<int>(text.size()) + 1);
  auto root = parser.parse_all();
  if (!root) return *parser.error();
  return Expression(std::shared_ptr<const Node>(std::move(root)), std::string(text));
}

}  // namespace gantry::schema::rules_expr
