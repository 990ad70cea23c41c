#include "pipeline-schema/variables.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace gantry::schema {

void VariableSet::set(std::string name, std::string value, bool expand) {
  for (auto& e : entries_) {
    if (e.name == name) {
      e.value = std::move(value);
      e.expand = expand;
      return;
    }
  }
  entries_.push_back({std::move(name), std::move(value), expand});
}

void VariableSet::set_all(const VariableSet& other) {
  for (const auto& e : other.entries_) set(e.name, e.value, e.expand);
}

bool VariableSet::remove(std::string_view name) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const VariableValue& e) { return e.name == name; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

const VariableValue* VariableSet::find(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::optional<std::string> VariableSet::value_of(std::string_view name) const {
  const auto* v = find(name);
  if (!v) return std::nullopt;
  return v->value;
}

namespace {

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// One reference found in a value: its span and the variable it names; or a `$$` escape.
struct Reference {
  size_t begin;
  size_t end;
  std::string name;  // empty for `$$`
};

// Scans `text` for GitLab's reference forms. `percent` adds the `%NAME%` form.
std::vector<Reference> find_references(std::string_view text, bool percent) {
  std::vector<Reference> refs;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '$' && i + 1 < text.size()) {
      char n = text[i + 1];
      if (n == '$') {
        refs.push_back({i, i + 2, ""});
        i += 2;
        continue;
      }
      if (n == '{') {
        size_t j = i + 2;
        if (j < text.size() && is_name_start(text[j])) {
          while (j < text.size() && is_name_char(text[j])) ++j;
          if (j < text.size() && text[j] == '}') {
            refs.push_back({i, j + 1, std::string(text.substr(i + 2, j - i - 2))});
            i = j + 1;
            continue;
          }
        }
      } else if (is_name_start(n)) {
        size_t j = i + 1;
        while (j < text.size() && is_name_char(text[j])) ++j;
        refs.push_back({i, j, std::string(text.substr(i + 1, j - i - 1))});
        i = j;
        continue;
      }
    } else if (percent && c == '%' && i + 1 < text.size() && is_name_start(text[i + 1])) {
      size_t j = i + 1;
      while (j < text.size() && is_name_char(text[j])) ++j;
      if (j < text.size() && text[j] == '%') {
        refs.push_back({i, j + 1, std::string(text.substr(i + 1, j - i - 1))});
        i = j + 1;
        continue;
      }
    }
    ++i;
  }
  return refs;
}

class Expander {
 public:
  explicit Expander(const VariableSet& vars) : vars_(vars) {}

  // The expanded value of `name` with `$$` escapes still in place.
  Result<std::string> expanded(const std::string& name) {
    if (auto it = done_.find(name); it != done_.end()) return it->second;
    const VariableValue* v = vars_.find(name);
    GANTRY_CHECK(v != nullptr);
    if (!v->expand) {
      done_[name] = v->value;
      return v->value;
    }
    if (std::find(stack_.begin(), stack_.end(), name) != stack_.end()) {
      std::string cycle;
      auto it = std::find(stack_.begin(), stack_.end(), name);
      for (; it != stack_.end(); ++it) cycle += *it + " -> ";
      cycle += name;
      return Error(ErrorCode::kInvalidArgument, "circular variable reference: " + cycle);
    }
    stack_.push_back(name);
    std::string out;
    size_t pos = 0;
    for (const auto& ref : find_references(v->value, /*percent=*/true)) {
      out.append(v->value, pos, ref.begin - pos);
      pos = ref.end;
      const std::string_view written =
          std::string_view(v->value).substr(ref.begin, ref.end - ref.begin);
      if (ref.name.empty() || ref.name == name || !vars_.contains(ref.name)) {
        out.append(written);
        continue;
      }
      auto inner = expanded(ref.name);
      if (!inner.ok()) {
        stack_.pop_back();
        return inner;
      }
      // A raw value is inserted as written; its `$$` must survive the final unescape.
      if (!vars_.find(ref.name)->expand) {
        std::string escaped;
        for (char ch : *inner) {
          escaped += ch;
          if (ch == '$') escaped += '$';
        }
        out += escaped;
      } else {
        out += *inner;
      }
    }
    out.append(v->value, pos);
    stack_.pop_back();
    done_[name] = out;
    return out;
  }

 private:
  const VariableSet& vars_;
  std::map<std::string, std::string> done_;
  std::vector<std::string> stack_;
};

std::string unescape_dollars(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') ++i;
  }
  return out;
}

}  // namespace

Result<VariableSet> expand_all(const VariableSet& vars) {
  Expander expander(vars);
  VariableSet out;
  for (const auto& e : vars.entries()) {
    if (!e.expand) {
      out.set(e.name, e.value, false);
      continue;
    }
    GANTRY_ASSIGN_OR_RETURN(std::string value, expander.expanded(e.name));
    out.set(e.name, unescape_dollars(value), true);
  }
  return out;
}

std::string expand_for_display(std::string_view text, const VariableSet& vars) {
  std::string out;
  size_t pos = 0;
  for (const auto& ref : find_references(text, /*percent=*/false)) {
    out.append(text.substr(pos, ref.begin - pos));
    pos = ref.end;
    auto value = ref.name.empty() ? std::nullopt : vars.value_of(ref.name);
    if (value) {
      out += *value;
    } else {
      out.append(text.substr(ref.begin, ref.end - ref.begin));
    }
  }
  out.append(text.substr(pos));
  return out;
}

std::string slugify(std::string_view text) {
  std::string out;
  for (char c : text) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += (std::isalnum(static_cast<unsigned char>(l)) && static_cast<unsigned char>(l) < 128)
               ? l
               : '-';
  }
  if (out.size() > 63) out.resize(63);
  size_t b = out.find_first_not_of('-');
  if (b == std::string::npos) return "";
  size_t e = out.find_last_not_of('-');
  return out.substr(b, e - b + 1);
}

namespace {

std::string base_name(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  std::string name(slash == std::string_view::npos ? path : path.substr(slash + 1));
  if (name.empty() || name == "." || name == "/") name = "project";
  return name;
}

}  // namespace

VariableSet predefined_pipeline_variables(const TriggerContext& t, std::string_view config_path) {
  VariableSet v;
  const std::string zeros(40, '0');
  const std::string sha = t.sha.empty() ? zeros : t.sha;
  std::string path = t.project_path;
  if (path.empty()) path = "local/" + base_name(t.project_dir);
  auto slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string ns = slash == std::string::npos ? "" : path.substr(0, slash);

  v.set("CI", "true");
  v.set("GITLAB_CI", "true");
  v.set("GANTRY_CI", "true");
  v.set("CI_COMMIT_SHA", sha);
  v.set("CI_COMMIT_SHORT_SHA", sha.substr(0, 8));
  v.set("CI_COMMIT_BEFORE_SHA", t.before_sha.empty() ? zeros : t.before_sha);
  v.set("CI_COMMIT_REF_NAME", t.ref());
  v.set("CI_COMMIT_REF_SLUG", slugify(t.ref()));
  if (t.is_tag()) {
    v.set("CI_COMMIT_TAG", t.tag);
  } else if (t.source != "merge_request_event") {
    v.set("CI_COMMIT_BRANCH", t.branch);
  }
  v.set("CI_DEFAULT_BRANCH", t.default_branch);
  v.set("CI_PIPELINE_SOURCE", t.source);
  if (t.source == "trigger") v.set("CI_PIPELINE_TRIGGERED", "true");
  if (t.source == "merge_request_event") {
    v.set("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", t.branch);
    v.set("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", t.merge_request_target_branch.empty()
                                                     ? t.default_branch
                                                     : t.merge_request_target_branch);
    v.set("CI_MERGE_REQUEST_EVENT_TYPE", "detached");
    // Pipelines test these to tell merge request pipelines apart (`if: $CI_MERGE_REQUEST_IID`);
    // there is no merge request server locally, so they are placeholders (--var overrides).
    v.set("CI_MERGE_REQUEST_IID", "1");
    v.set("CI_MERGE_REQUEST_ID", "1");
  }
  v.set("CI_PROJECT_DIR", t.job_project_dir.empty() ? "/builds/" + path : t.job_project_dir);
  v.set("CI_BUILDS_DIR", "/builds");
  v.set("CI_PROJECT_PATH", path);
  v.set("CI_PROJECT_PATH_SLUG", slugify(path));
  v.set("CI_PROJECT_NAME", name);
  v.set("CI_PROJECT_NAMESPACE", ns);
  v.set("CI_CONFIG_PATH", std::string(config_path));
  return v;
}

VariableSet predefined_job_variables(std::string_view job_name, std::string_view stage,
                                     int node_index, int node_total) {
  VariableSet v;
  v.set("CI_JOB_NAME", std::string(job_name));
  v.set("CI_JOB_NAME_SLUG", slugify(job_name));
  v.set("CI_JOB_STAGE", std::string(stage));
  v.set("CI_NODE_TOTAL", std::to_string(node_total < 1 ? 1 : node_total));
  if (node_index > 0) v.set("CI_NODE_INDEX", std::to_string(node_index));
  return v;
}

}  // namespace gantry::schema
