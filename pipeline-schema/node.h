// Node: Gantry's own YAML tree, made by yaml_loader from a pipeline file, so nothing past the
// loader depends on yaml-cpp. A node is null, a scalar, a sequence or a map; each keeps its tag
// ("!reference" or empty), its location, and for maps the key order and each key's location.
// Scalars keep their text; typed readings (bool/int/null) follow YAML 1.1 as GitLab's parser
// (Ruby Psych) applies them to plain scalars. Value type; copies are deep. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline-schema/source_location.h"

namespace gantry::schema {

enum class NodeKind { kNull, kScalar, kSequence, kMap };

// How a scalar was written. Only plain scalars are read as booleans, numbers or null.
enum class ScalarStyle { kPlain, kQuoted };

// What a scalar means, YAML 1.1 style (`yes`/`on` are booleans, as in GitLab).
enum class ScalarType { kString, kBool, kInt, kFloat, kNull };

struct MapEntry;

class Node {
 public:
  Node() = default;  // null, unknown location
  static Node null(SourceLocation loc);
  static Node scalar(std::string value, SourceLocation loc,
                     ScalarStyle style = ScalarStyle::kPlain);
  static Node sequence(SourceLocation loc);
  static Node map(SourceLocation loc);

  NodeKind kind() const { return kind_; }
  bool is_null() const { return kind_ == NodeKind::kNull; }
  bool is_scalar() const { return kind_ == NodeKind::kScalar; }
  bool is_sequence() const { return kind_ == NodeKind::kSequence; }
  bool is_map() const { return kind_ == NodeKind::kMap; }

  const SourceLocation& loc() const { return loc_; }
  void set_loc(SourceLocation loc) { loc_ = std::move(loc); }
  // Explicit tag such as "!reference"; empty when untagged.
  const std::string& tag() const { return tag_; }
  void set_tag(std::string tag) { tag_ = std::move(tag); }

  // Scalars. text() is the scalar's characters (empty for null).
  const std::string& text() const { return text_; }
  ScalarStyle style() const { return style_; }
  ScalarType scalar_type() const;
  bool is_string() const { return is_scalar() && scalar_type() == ScalarType::kString; }
  std::optional<bool> as_bool() const;        // plain true/false/yes/no/on/off
  std::optional<std::int64_t> as_int() const;  // plain decimal integer

  // Sequences.
  const std::vector<Node>& items() const { return items_; }
  std::vector<Node>& items() { return items_; }
  void push_back(Node n) { items_.push_back(std::move(n)); }

  // Maps, in key order.
  const std::vector<MapEntry>& entries() const { return entries_; }
  std::vector<MapEntry>& entries() { return entries_; }
  const Node* find(std::string_view key) const;
  Node* find(std::string_view key);
  const MapEntry* find_entry(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // Like find(), but a key whose value is null counts as absent: GitLab treats `key:` with no
  // value as "not specified" for its keywords.
  const Node* get(std::string_view key) const;
  bool has_value(std::string_view key) const { return get(key) != nullptr; }
  // Replaces the value of `key` (keeping its position) or appends a new entry.
  void set(std::string key, SourceLocation key_loc, Node value);
  bool erase(std::string_view key);

  // "a string", "a boolean", "an integer", "a number", "null", "a list", "a map".
  std::string type_name() const;
  // Number of nodes in this tree (this one included).
  std::size_t tree_size() const;

 private:
  NodeKind kind_ = NodeKind::kNull;
  ScalarStyle style_ = ScalarStyle::kPlain;
  SourceLocation loc_;
  std::string tag_;
  std::string text_;
  std::vector<Node> items_;
  std::vector<MapEntry> entries_;
};

struct MapEntry {
  std::string key;
  SourceLocation key_loc;
  Node value;
};

// GitLab's deep merge (ActiveSupport Hash#deep_merge), used by `include` and `extends`: when both
// are maps, keys of `over` are merged into `base` recursively, new keys appended in order;
// otherwise `over` replaces `base` (arrays are replaced, not concatenated).
Node deep_merge(const Node& base, const Node& over);
void deep_merge_into(Node& base, const Node& over);

}  // namespace gantry::schema
