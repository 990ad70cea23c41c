#include "pipeline-schema/rules_expr/eval.h"

#include <cctype>

namespace gantry::schema::rules_expr {

bool Value::truthy() const {
  if (kind == Kind::kNull) return false;
  if (kind == Kind::kBool) return boolean;
  return true;
}

bool Value::present() const {
  if (!truthy()) return false;
  if (kind == Kind::kString) {
    for (char c : text) {
      if (!std::isspace(static_cast<unsigned char>(c))) return true;
    }
    return false;
  }
  return true;
}

namespace {

Value null_value() { return Value{}; }
Value bool_value(bool b) {
  Value v;
  v.kind = Value::Kind::kBool;
  v.boolean = b;
  return v;
}
Value string_value(std::string s) {
  Value v;
  v.kind = Value::Kind::kString;
  v.text = std::move(s);
  return v;
}

bool equal(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::kNull: return true;
    case Value::Kind::kBool: return a.boolean == b.boolean;
    case Value::Kind::kString:
    case Value::Kind::kPattern: return a.text == b.text;
  }
  return false;
}

// Ruby's `to_s` of the left side of =~.
std::string as_text(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull: return "";
    case Value::Kind::kBool: return v.boolean ? "true" : "false";
    case Value::Kind::kString:
    case Value::Kind::kPattern: return v.text;
  }
  return "";
}

// Does the right side of =~ match? nullopt: the right side is no pattern at all (null).
// GitLab turns a string holding "/re/flags" into a regex; any other string falls back to Ruby's
// String#scan, i.e. a substring search of the left text in the right string.
std::optional<bool> matches(const Value& left, const Value& right) {
  std::string text = as_text(left);
  switch (right.kind) {
    case Value::Kind::kNull: return std::nullopt;
    case Value::Kind::kBool: return right.boolean ? std::optional<bool>(false) : std::nullopt;
    case Value::Kind::kPattern: return right.pattern->search(text);
    case Value::Kind::kString: {
      if (Regex::looks_like_literal(right.text)) {
        auto re = Regex::from_literal(right.text);
        if (re.ok()) return re->search(text);
      }
      return right.text.find(text) != std::string::npos;
    }
  }
  return false;
}

Value eval(const Node& n, const VariableLookup& lookup) {
  switch (n.kind) {
    case NodeKind::kVariable: {
      auto v = lookup(n.text);
      return v ? string_value(std::move(*v)) : null_value();
    }
    case NodeKind::kString: return string_value(n.text);
    case NodeKind::kNull: return null_value();
    case NodeKind::kPattern: {
      Value v;
      v.kind = Value::Kind::kPattern;
      v.text = n.text;
      v.pattern = &*n.pattern;
      return v;
    }
    case NodeKind::kEquals: return bool_value(equal(eval(*n.left, lookup), eval(*n.right, lookup)));
    case NodeKind::kNotEquals:
      return bool_value(!equal(eval(*n.left, lookup), eval(*n.right, lookup)));
    case NodeKind::kMatches: {
      auto m = matches(eval(*n.left, lookup), eval(*n.right, lookup));
      return bool_value(m.value_or(false));
    }
    case NodeKind::kNotMatches: {
      auto m = matches(eval(*n.left, lookup), eval(*n.right, lookup));
      return bool_value(m ? !*m : true);
    }
    case NodeKind::kAnd: {
      Value left = eval(*n.left, lookup);
      return left.truthy() ? eval(*n.right, lookup) : left;
    }
    case NodeKind::kOr: {
      Value left = eval(*n.left, lookup);
      return left.truthy() ? left : eval(*n.right, lookup);
    }
  }
  return null_value();
}

}  // namespace

Value evaluate_value(const Expression& expression, const VariableLookup& lookup) {
  return eval(expression.root(), lookup);
}

bool evaluate(const Expression& expression, const VariableLookup& lookup) {
  return evaluate_value(expression, lookup).present();
}

}  // namespace gantry::schema::rules_expr
