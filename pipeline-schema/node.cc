#include "pipeline-schema/node.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace gantry::schema {

namespace {

bool is_bool_word(std::string_view s, bool* value) {
  static constexpr std::string_view kTrue[] = {"true", "True", "TRUE", "yes", "Yes",
                                               "YES",  "on",   "On",   "ON"};
  static constexpr std::string_view kFalse[] = {"false", "False", "FALSE", "no", "No",
                                                "NO",    "off",   "Off",   "OFF"};
  for (auto w : kTrue)
    if (s == w) return *value = true, true;
  for (auto w : kFalse)
    if (s == w) return *value = false, true;
  return false;
}

bool is_int_text(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
    return std::all_of(s.begin() + 2, s.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  }
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '_'; }) &&
         s[0] != '_';
}

bool is_float_text(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == ".nan" || s == ".NaN" || s == ".NAN") {
    return true;
  }
  bool digits = false, dot = false;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '_' && digits) {
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!digits || !dot) return false;
  if (i == s.size()) return true;
  if (s[i] != 'e' && s[i] != 'E') return false;
  ++i;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i == s.size()) return false;
  return std::all_of(s.begin() + i, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Node Node::null(SourceLocation loc) {
  Node n;
  n.loc_ = std::move(loc);
  return n;
}

Node Node::scalar(std::string value, SourceLocation loc, ScalarStyle style) {
  Node n;
  n.kind_ = NodeKind::kScalar;
  n.text_ = std::move(value);
  n.loc_ = std::move(loc);
  n.style_ = style;
  return n;
}

Node Node::sequence(SourceLocation loc) {
  Node n;
  n.kind_ = NodeKind::kSequence;
  n.loc_ = std::move(loc);
  return n;
}

Node Node::map(SourceLocation loc) {
  Node n;
  n.kind_ = NodeKind::kMap;
  n.loc_ = std::move(loc);
  return n;
}

ScalarType Node::scalar_type() const {
  if (kind_ == NodeKind::kNull) return ScalarType::kNull;
  if (style_ == ScalarStyle::kQuoted || !tag_.empty()) return ScalarType::kString;
  bool b;
  if (is_bool_word(text_, &b)) return ScalarType::kBool;
  if (is_int_text(text_)) return ScalarType::kInt;
  if (is_float_text(text_)) return ScalarType::kFloat;
  return ScalarType::kString;
}

std::optional<bool> Node::as_bool() const {
  bool b;
  if (is_scalar() && style_ == ScalarStyle::kPlain && tag_.empty() && is_bool_word(text_, &b)) {
    return b;
  }
  return std::nullopt;
}

std::optional<std::int64_t> Node::as_int() const {
  if (!is_scalar() || scalar_type() != ScalarType::kInt) return std::nullopt;
  std::string digits;
  for (char c : text_)
    if (c != '_' && c != '+') digits += c;
  std::int64_t v = 0;
  int base = 10;
  std::string_view s = digits;
  bool neg = !s.empty() && s[0] == '-';
  if (neg) s.remove_prefix(1);
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
    base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
    s.remove_prefix(2);
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return neg ? -v : v;
}

const Node* Node::find(std::string_view key) const {
  for (const auto& e : entries_)
    if (e.key == key) return &e.value;
  return nullptr;
}

Node* Node::find(std::string_view key) {
  for (auto& e : entries_)
    if (e.key == key) return &e.value;
  return nullptr;
}

const Node* Node::get(std::string_view key) const {
  const Node* n = find(key);
  return n != nullptr && !n->is_null() ? n : nullptr;
}

const MapEntry* Node::find_entry(std::string_view key) const {
  for (const auto& e : entries_)
    if (e.key == key) return &e;
  return nullptr;
}

void Node::set(std::string key, SourceLocation key_loc, Node value) {
  for (auto& e : entries_) {
    if (e.key == key) {
      e.key_loc = std::move(key_loc);
      e.value = std::move(value);
      return;
    }
  }
  entries_.push_back({std::move(key), std::move(key_loc), std::move(value)});
}

bool Node::erase(std::string_view key) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const MapEntry& e) { return e.key == key; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

std::string Node::type_name() const {
  switch (kind_) {
    case NodeKind::kNull:
      return "null";
    case NodeKind::kSequence:
      return "a list";
    case NodeKind::kMap:
      return "a map";
    case NodeKind::kScalar:
      break;
  }
  switch (scalar_type()) {
    case ScalarType::kBool:
      return "a boolean";
    case ScalarType::kInt:
      return "an integer";
    case ScalarType::kFloat:
      return "a number";
    case ScalarType::kNull:
      return "null";
    case ScalarType::kString:
      break;
  }
  return "a string";
}

std::size_t Node::tree_size() const {
  std::size_t n = 1;
  for (const auto& i : items_) n += i.tree_size();
  for (const auto& e : entries_) n += e.value.tree_size();
  return n;
}

void deep_merge_into(Node& base, const Node& over) {
  if (!base.is_map() || !over.is_map()) {
    base = over;
    return;
  }
  for (const auto& e : over.entries()) {
    if (Node* existing = base.find(e.key); existing != nullptr) {
      deep_merge_into(*existing, e.value);
    } else {
      base.entries().push_back(e);
    }
  }
}

Node deep_merge(const Node& base, const Node& over) {
  Node out = base;
  deep_merge_into(out, over);
  return out;
}

}  // namespace gantry::schema
