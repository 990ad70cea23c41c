#include "pipeline-schema/extends.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "pipeline-schema/keywords/keyword_table.h"

namespace gantry::schema {

namespace {

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

class ExtendsResolver {
 public:
  ExtendsResolver(Node& root, Diagnostics& diags) : root_(root), diags_(diags) {
    for (std::size_t i = 0; i < root_.entries().size(); ++i) {
      const auto& e = root_.entries()[i];
      if (!is_global_keyword(e.key)) {
        index_.emplace(e.key, i);
        names_.push_back(e.key);
      }
    }
    state_.assign(root_.entries().size(), State::kTodo);
    depth_.assign(root_.entries().size(), 1);
  }

  void run() {
    for (std::size_t i = 0; i < root_.entries().size(); ++i) {
      if (!is_global_keyword(root_.entries()[i].key)) {
        std::vector<std::string> chain;
        resolve(i, chain);
      }
    }
  }

 private:
  enum class State { kTodo, kActive, kDone };

  // Returns false when `i` is part of a loop or otherwise unusable as a parent.
  bool resolve(std::size_t i, std::vector<std::string>& chain) {
    MapEntry& entry = root_.entries()[i];
    if (state_[i] == State::kDone) return true;
    if (state_[i] == State::kActive) return false;  // the caller reports the loop
    Node& job = entry.value;
    if (!job.is_map() || !job.has("extends")) {
      state_[i] = State::kDone;
      return true;
    }
    state_[i] = State::kActive;
    chain.push_back(entry.key);
    const MapEntry* ext = job.find_entry("extends");
    std::string owner = job_owner(entry.key);
    std::vector<const Node*> parents;
    if (ext->value.is_sequence()) {
      for (const auto& p : ext->value.items()) parents.push_back(&p);
    } else {
      parents.push_back(&ext->value);
    }
    Node base = Node::map(job.loc());
    bool ok = true;
    for (const Node* p : parents) {
      if (!p->is_string()) {
        diags_.error(
            p->loc(),
            owner + ": 'extends' must be a job name or a list of job names, not " + p->type_name());
        ok = false;
        continue;
      }
      auto it = index_.find(p->text());
      if (it == index_.end()) {
        std::string msg =
            owner + ": 'extends' names " + quote(p->text()) + ", which does not exist";
        if (auto s = keywords::did_you_mean(p->text(), std::span<const std::string>(names_))) {
          msg += " (did you mean " + quote(*s) + "?)";
        }
        diags_.error(p->loc(), msg);
        ok = false;
        continue;
      }
      std::size_t pi = it->second;
      if (state_[pi] == State::kActive) {
        std::string loop;
        auto start = std::find(chain.begin(), chain.end(), p->text());
        for (auto c = start; c != chain.end(); ++c) loop += *c + " -> ";
        diags_.error(p->loc(), owner + ": 'extends' loop: " + loop + p->text());
        ok = false;
        continue;
      }
      if (!resolve(pi, chain)) {
        ok = false;
        continue;
      }
      // GitLab counts the job and its ancestors: 11 levels at most.
      if (depth_[pi] + 1 > kMaxExtendsLevels) {
        diags_.error(p->loc(), owner + ": 'extends' nests more than " +
                                   std::to_string(kMaxExtendsLevels) + " levels deep");
        ok = false;
        continue;
      }
      depth_[i] = std::max(depth_[i], depth_[pi] + 1);
      const Node& parent = root_.entries()[pi].value;
      if (!parent.is_map()) {
        diags_.error(p->loc(), owner + ": 'extends' names " + quote(p->text()) +
                                   ", which is " + parent.type_name() + ", not a job");
        ok = false;
        continue;
      }
      deep_merge_into(base, parent);
    }
    // Re-fetch: resolving parents never reallocates root_.entries(), but be explicit.
    Node& self = root_.entries()[i].value;
    self.erase("extends");
    deep_merge_into(base, self);
    base.set_loc(self.loc());
    self = std::move(base);
    chain.pop_back();
    state_[i] = State::kDone;
    (void)ok;  // a parent with errors is still merged, so later checks see the rest
    return true;
  }

  Node& root_;
  Diagnostics& diags_;
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<std::string> names_;
  std::vector<State> state_;
  std::vector<int> depth_;  // levels of a resolved job: 1 + its deepest parent's
};

class ReferenceResolver {
 public:
  ReferenceResolver(Node& root, Diagnostics& diags) : root_(root), diags_(diags) {}

  void run() {
    for (auto& e : root_.entries()) {
      if (!walk(e.value, 0)) e.value = Node::null(e.value.loc());
    }
  }

 private:
  // Returns false when `n` was a reference that could not be resolved (it is then null).
  bool walk(Node& n, int depth) {
    if (!n.tag().empty()) {
      if (n.tag() == "!reference") return replace(n, depth);
      if (n.tag().rfind("tag:yaml.org,2002:", 0) != 0) {
        diags_.error(n.loc(),
                     "unknown YAML tag " + quote(n.tag()) + "; gantry knows only '!reference'");
      }
    }
    // A failed reference inside a list is dropped, so it is reported once rather than again
    // as a wrong-typed item.
    auto& items = n.items();
    if (!items.empty()) {
      std::vector<Node> kept;
      kept.reserve(items.size());
      for (auto& item : items) {
        if (walk(item, depth)) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    for (auto& e : n.entries()) walk(e.value, depth);
    return true;
  }

  bool replace(Node& n, int depth) {
    SourceLocation site = n.loc();
    std::vector<std::string> path;
    bool ok = n.is_sequence() && !n.items().empty();
    if (ok) {
      for (const auto& item : n.items()) {
        if (!item.is_scalar()) {
          ok = false;
          break;
        }
        path.push_back(item.text());
      }
    }
    if (!ok) {
      diags_.error(site, "'!reference' takes a list of keys, such as !reference [.setup, script]");
      n = Node::null(site);
      return false;
    }
    std::string shown = "!reference [";
    for (std::size_t i = 0; i < path.size(); ++i) shown += (i ? ", " : "") + path[i];
    shown += "]";
    if (depth >= kMaxReferenceNesting) {
      diags_.error(site, shown + ": references nest more than " +
                             std::to_string(kMaxReferenceNesting) + " levels deep (or loop)");
      n = Node::null(site);
      return false;
    }
    const Node* target = &root_;
    for (std::size_t i = 0; i < path.size(); ++i) {
      const Node* next = target->is_map() ? target->find(path[i]) : nullptr;
      if (next == nullptr) {
        std::string msg = shown + ": ";
        msg += i == 0 ? "no job or keyword " + quote(path[0]) + " at the top level"
                      : quote(path[i - 1]) + " has no key " + quote(path[i]);
        diags_.error(site, msg);
        n = Node::null(site);
        return false;
      }
      target = next;
    }
    Node copy = *target;
    bool nested_ok = walk(copy, depth + 1);
    copy.set_loc(site);
    n = std::move(copy);
    return nested_ok;
  }

  Node& root_;
  Diagnostics& diags_;
};

}  // namespace

bool is_global_keyword(std::string_view key) {
  return keywords::find_keyword("global", key) != nullptr;
}

std::string job_owner(std::string_view name) {
  if (!name.empty() && name[0] == '.') return "hidden job " + quote(name);
  return "job " + quote(name);
}

void resolve_extends(Node& root, Diagnostics& diags) {
  if (!root.is_map()) return;
  ExtendsResolver(root, diags).run();
}

void resolve_references(Node& root, Diagnostics& diags) {
  if (!root.is_map()) return;
  ReferenceResolver(root, diags).run();
}

}  // namespace gantry::schema
