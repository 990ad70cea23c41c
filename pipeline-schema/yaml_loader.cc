#include "pipeline-schema/yaml_loader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <map>
#include <sstream>
#include <vector>

namespace gantry::schema {

namespace {

// Aliases are copied into the tree, so a "billion laughs" document could grow without bound;
// real pipelines stay far below this.
constexpr std::size_t kMaxNodes = 250'000;
constexpr std::size_t kMaxDocuments = 64;

struct ParseAbort {
  SourceLocation loc;
  std::string message;
};

// Builds Nodes from yaml-cpp's parse events. Each open collection is a Frame; a map frame
// alternates between waiting for a key and waiting for that key's value.
class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(const std::string& file, Diagnostics& diags) : file_(file), diags_(diags) {}

  std::vector<Node>& documents() { return documents_; }
  // Where the last parse event was, for errors yaml-cpp reports without a position.
  const SourceLocation& last_location() const { return last_; }

  void OnDocumentStart(const YAML::Mark& mark) override { loc(mark); }
  void OnDocumentEnd() override {
    documents_.push_back(doc_.value_or(Node::null(SourceLocation{file_, 1, 1})));
    doc_.reset();
  }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    finish(Node::null(loc(mark)), anchor, /*is_alias=*/false);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      throw ParseAbort{loc(mark),
                       "alias refers to an anchor that is not complete yet (recursive alias)"};
    }
    count_nodes(it->second.tree_size(), mark);
    Node copy = it->second;
    copy.set_loc(loc(mark));
    finish(std::move(copy), YAML::NullAnchor, /*is_alias=*/true);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    count_nodes(1, mark);
    Node n =
        Node::scalar(value, loc(mark), tag == "?" ? ScalarStyle::kPlain : ScalarStyle::kQuoted);
    set_tag(n, tag);
    finish(std::move(n), anchor, false);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    count_nodes(1, mark);
    Frame f{Node::sequence(loc(mark)), anchor};
    set_tag(f.node, tag);
    stack_.push_back(std::move(f));
  }

  void OnSequenceEnd() override { close_frame(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    count_nodes(1, mark);
    Frame f{Node::map(loc(mark)), anchor};
    set_tag(f.node, tag);
    stack_.push_back(std::move(f));
  }

  void OnMapEnd() override {
    apply_merge_keys(stack_.back());
    close_frame();
  }

 private:
  struct Frame {
    Node node;
    YAML::anchor_t anchor;
    // Map frames: the pending key, once read.
    std::optional<Node> key;
    // `<<` merge sources with the index in `entries` where they were written.
    std::vector<std::pair<std::size_t, Node>> merges;
  };

  SourceLocation loc(const YAML::Mark& mark) {
    last_ = SourceLocation{file_, mark.line + 1, mark.column + 1};
    return last_;
  }

  static void set_tag(Node& n, const std::string& tag) {
    // yaml-cpp reports untagged nodes as "?" (plain) or "!" (quoted); "!!str" forces a string.
    if (tag == "?" || tag == "!" || tag.empty()) return;
    if (tag == "tag:yaml.org,2002:str") return;
    n.set_tag(tag);
  }

  void count_nodes(std::size_t n, const YAML::Mark& mark) {
    nodes_ += n;
    if (nodes_ > kMaxNodes) {
      throw ParseAbort{loc(mark), "document too large: more than " + std::to_string(kMaxNodes) +
                                      " nodes after expanding aliases"};
    }
  }

  void close_frame() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    finish(std::move(f.node), f.anchor, false);
  }

  // A complete node: record its anchor, then hand it to the enclosing collection.
  void finish(Node n, YAML::anchor_t anchor, bool is_alias) {
    if (anchor != YAML::NullAnchor) anchors_[anchor] = n;
    if (stack_.empty()) {
      doc_ = std::move(n);
      return;
    }
    Frame& top = stack_.back();
    if (top.node.is_sequence()) {
      top.node.push_back(std::move(n));
      return;
    }
    if (!top.key) {
      top.key = std::move(n);
      return;
    }
    Node key = std::move(*top.key);
    top.key.reset();
    if (key.is_scalar() && key.style() == ScalarStyle::kPlain && key.text() == "<<") {
      add_merge_source(top, std::move(n));
      return;
    }
    if (!key.is_scalar() && !key.is_null()) {
      diags_.error(key.loc(), "a map key must be a string, not " + key.type_name());
      return;
    }
    auto& entries = top.node.entries();
    for (auto& e : entries) {
      if (e.key == key.text()) {
        // Ruby's YAML parser, which GitLab uses, keeps the last value; say so.
        diags_.warning(key.loc(), "duplicate key '" + e.key + "' (first at line " +
                                      std::to_string(e.key_loc.line) +
                                      "); the later value is used");
        e.key_loc = key.loc();
        e.value = std::move(n);
        return;
      }
    }
    entries.push_back({key.text(), key.loc(), std::move(n)});
  }

  void add_merge_source(Frame& f, Node value) {
    std::size_t at = f.node.entries().size();
    if (value.is_map()) {
      f.merges.emplace_back(at, std::move(value));
    } else if (value.is_sequence()) {
      for (auto& item : value.items()) {
        if (!item.is_map()) {
          diags_.error(item.loc(), "a '<<' merge key takes a map or a list of maps, not " +
                                       item.type_name());
          continue;
        }
        f.merges.emplace_back(at, std::move(item));
      }
    } else {
      diags_.error(value.loc(),
                   "a '<<' merge key takes a map or a list of maps, not " + value.type_name());
    }
  }

  // YAML merge keys: keys written in the map win over merged ones wherever they appear, and
  // among merged maps the first one listed wins. Merged keys are placed where `<<` was written.
  static void apply_merge_keys(Frame& f) {
    if (f.merges.empty()) return;
    auto& own = f.node.entries();
    std::vector<MapEntry> out;
    out.reserve(own.size());
    auto present = [&](const std::string& key) {
      for (const auto& e : own)
        if (e.key == key) return true;
      for (const auto& e : out)
        if (e.key == key) return true;
      return false;
    };
    std::size_t m = 0;
    for (std::size_t i = 0; i <= own.size(); ++i) {
      for (; m < f.merges.size() && f.merges[m].first == i; ++m) {
        for (const auto& e : f.merges[m].second.entries()) {
          if (!present(e.key)) out.push_back(e);
        }
      }
      if (i < own.size()) out.push_back(std::move(own[i]));
    }
    own = std::move(out);
    f.merges.clear();
  }

  const std::string& file_;
  Diagnostics& diags_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Node> anchors_;
  std::optional<Node> doc_;
  std::vector<Node> documents_;
  std::size_t nodes_ = 0;
  SourceLocation last_;
};

}  // namespace

std::optional<Node> parse_yaml(std::string_view text, const std::string& file, Diagnostics& diags) {
  std::istringstream in{std::string(text)};
  TreeBuilder builder(file, diags);
  try {
    YAML::Parser parser(in);
    // yaml-cpp 0.7 can report empty documents forever on some malformed input (a stray
    // document marker or tag); a pipeline has one or two documents, so stop well before that.
    while (parser.HandleNextDocument(builder)) {
      if (builder.documents().size() > kMaxDocuments) {
        SourceLocation where = builder.last_location();
        if (where.file.empty()) where.file = file;
        diags.error(where, "yaml syntax error: the parser stopped making progress after this "
                           "point (more than " + std::to_string(kMaxDocuments) +
                           " YAML documents); check the indentation and quoting here");
        return std::nullopt;
      }
    }
  } catch (const ParseAbort& e) {
    diags.error(e.loc, e.message);
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    SourceLocation where{file, e.mark.is_null() ? 0 : e.mark.line + 1,
                         e.mark.is_null() ? 0 : e.mark.column + 1};
    diags.error(where, "yaml syntax error: " + e.msg);
    return std::nullopt;
  }
  auto& docs = builder.documents();
  if (docs.empty()) return Node::null(SourceLocation{file, 1, 1});
  std::size_t first = 0;
  if (docs.size() > 1 && docs[0].is_map() && docs[0].has("spec")) {
    diags.warning(docs[0].find_entry("spec")->key_loc,
                  "'spec' header (spec:inputs) is not supported by gantry; it is ignored");
    first = 1;
  }
  if (docs.size() > first + 1) {
    diags.warning(docs[first + 1].loc(),
                  "only the first YAML document is used; the rest of the file is ignored");
  }
  return std::move(docs[first]);
}

}  // namespace gantry::schema
