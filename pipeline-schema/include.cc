#include "pipeline-schema/include.h"

#include <algorithm>
#include <set>

#include "pipeline-schema/keywords/reader.h"
#include "pipeline-schema/yaml_loader.h"

namespace gantry::schema {

namespace {

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

bool is_yaml_name(std::string_view p) {
  auto ends = [&](std::string_view suffix) {
    return p.size() >= suffix.size() && p.substr(p.size() - suffix.size()) == suffix;
  };
  return ends(".yml") || ends(".yaml");
}

class Expander {
 public:
  Expander(const ProjectFiles& files, Diagnostics& diags, std::vector<std::string>* loaded)
      : files_(files), diags_(diags), loaded_(loaded) {}

  Node expand(Node root, const std::string& file) {
    stack_.push_back(file);
    seen_.insert(file);
    Node out = process(std::move(root));
    stack_.pop_back();
    return out;
  }

 private:
  Node process(Node config) {
    if (!config.is_map()) return config;
    const MapEntry* inc = config.find_entry("include");
    if (inc == nullptr) return config;
    Node include_value = inc->value;
    config.erase("include");
    if (include_value.is_null()) return config;

    collect(include_value);

    Node out = config;
    std::vector<std::pair<std::string, SourceLocation>> targets = std::move(located_);
    located_.clear();
    for (const auto& [path, loc] : targets) {
      if (std::find(stack_.begin(), stack_.end(), path) != stack_.end()) {
        std::string chain;
        for (const auto& s : stack_) chain += s + " -> ";
        diags_.error(loc, "include loop: " + chain + path);
        continue;
      }
      if (!seen_.insert(path).second) continue;  // GitLab loads a file included twice once
      if (++count_ > kMaxIncludes) {
        diags_.error(loc, "include: more than " + std::to_string(kMaxIncludes) +
                              " files included; GitLab's limit is " + std::to_string(kMaxIncludes));
        return out;
      }
      auto text = files_.read(path);
      if (!text.ok()) {
        diags_.error(loc, "include: cannot read local file " + quote(path) + ": " +
                              text.error().message());
        continue;
      }
      if (loaded_ != nullptr) loaded_->push_back(path);
      auto parsed = parse_yaml(*text, path, diags_);
      if (!parsed) continue;
      if (parsed->is_null()) continue;
      if (!parsed->is_map()) {
        diags_.error(parsed->loc(), "included file " + quote(path) +
                                        " must be a map of keywords and jobs, not " +
                                        parsed->type_name());
        continue;
      }
      stack_.push_back(path);
      Node sub = process(std::move(*parsed));
      stack_.pop_back();
      deep_merge_into(out, sub);
    }
    // The including file's own keys win over everything it includes.
    deep_merge_into(out, config);
    return out;
  }

  void collect(const Node& value) {
    if (value.is_sequence()) {
      for (const auto& item : value.items()) collect_one(item);
    } else {
      collect_one(value);
    }
  }

  void unsupported(const SourceLocation& loc, std::string_view kind, std::string_view what) {
    diags_.error(loc, "include: " + std::string(kind) + " includes are not supported by gantry " +
                          "(only local files of the project); " + quote(what) + " is not loaded");
  }

  void collect_one(const Node& item) {
    keywords::Reader r(diags_, "");
    if (item.is_scalar() && item.scalar_type() == ScalarType::kString) {
      const std::string& s = item.text();
      if (s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0) {
        unsupported(item.loc(), "remote", s);
      } else {
        add_local(s, item.loc());
      }
      return;
    }
    if (!item.is_map()) {
      r.type_error(item, "include", "a file path, a map or a list of them");
      return;
    }
    if (!r.check_keys(item, "include", "include")) return;
    if (const MapEntry* rules = item.find_entry("rules")) {
      diags_.warning(rules->key_loc,
                     "'include:rules' is not evaluated by gantry; the file is always included");
    }
    if (const Node* local = item.find("local")) {
      if (auto s = r.string(*local, "include:local")) add_local(*s, local->loc());
      return;
    }
    if (const Node* remote = item.find("remote")) {
      unsupported(remote->loc(), "remote", remote->text());
      return;
    }
    if (const Node* project = item.find("project")) {
      unsupported(project->loc(), "project", project->text());
      return;
    }
    if (const Node* tmpl = item.find("template")) {
      unsupported(tmpl->loc(), "template", tmpl->text());
      return;
    }
    if (const Node* comp = item.find("component")) {
      unsupported(comp->loc(), "component", comp->text());
      return;
    }
    diags_.error(item.loc(),
                 "include: an entry needs one of 'local', 'remote', 'project', 'template' or "
                 "'component'");
  }

  void add_local(const std::string& raw, const SourceLocation& loc) {
    std::string path = normalize_project_path(raw);
    if (path.empty()) {
      diags_.error(loc, "include: the local file path is empty");
      return;
    }
    if (!is_yaml_name(path)) {
      diags_.error(loc,
                   "include: " + quote(raw) + " is not a YAML file (it must end in .yml or .yaml)");
      return;
    }
    if (has_wildcard(path)) {
      bool any = false;
      for (const auto& f : files_.list(wildcard_base_dir(path))) {
        if (wildcard_match(path, f)) {
          located_.emplace_back(f, loc);
          any = true;
        }
      }
      if (!any) diags_.error(loc, "include: " + quote(raw) + " matches no file in the project");
      return;
    }
    if (!files_.exists(path)) {
      diags_.error(loc, "include: local file " + quote(raw) + " does not exist");
      return;
    }
    located_.emplace_back(path, loc);
  }

  const ProjectFiles& files_;
  Diagnostics& diags_;
  std::vector<std::string>* loaded_;
  std::vector<std::string> stack_;
  std::set<std::string> seen_;
  std::vector<std::pair<std::string, SourceLocation>> located_;
  int count_ = 0;
};

}  // namespace

Node expand_includes(Node root, const std::string& file, const ProjectFiles& files,
                     Diagnostics& diags, std::vector<std::string>* loaded) {
  Expander e(files, diags, loaded);
  return e.expand(std::move(root), file);
}

}  // namespace gantry::schema
