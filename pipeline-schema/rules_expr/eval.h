// Evaluation of a parsed CI/CD variable expression against a set of variables, with GitLab's
// exact semantics (which follow Ruby's):
//   - an undefined variable is null; a defined empty variable is "" (so `$X == null` tells them
//     apart); values are used as stored, without expanding `$refs` inside them;
//   - `&&` / `||` return one of their operands as Ruby does (null and false are falsy, "" is not),
//     and the whole expression is true when its result is "present": not null, not false, not a
//     blank string. So `$EMPTY && "x"` is true and `$EMPTY || "x"` is false, as on GitLab;
//   - `=~` / `!~` take a regex, or a variable holding "/regex/flags"; a null right side gives
//     false / true. PURE and thread-compatible.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "pipeline-schema/rules_expr/parser.h"

namespace gantry::schema::rules_expr {

// Looks a variable up by name: its value, or nullopt when it is not defined.
using VariableLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The value an expression (or subexpression) evaluates to.
struct Value {
  enum class Kind { kNull, kString, kPattern, kBool };
  Kind kind = Kind::kNull;
  std::string text;  // kString: the string; kPattern: the literal
  const Regex* pattern = nullptr;  // kPattern: points into the Expression's tree
  bool boolean = false;

  // Ruby truthiness (what && and || test): everything but null and false.
  bool truthy() const;
  // ActiveSupport's present?: truthy and not a blank string.
  bool present() const;
};

Value evaluate_value(const Expression& expression, const VariableLookup& lookup);

// The result GitLab uses for `rules:if` and `only/except:variables`.
bool evaluate(const Expression& expression, const VariableLookup& lookup);

}  // namespace gantry::schema::rules_expr
