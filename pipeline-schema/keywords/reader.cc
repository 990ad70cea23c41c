#include "pipeline-schema/keywords/reader.h"

#include <algorithm>

#include "pipeline-schema/duration.h"
#include "pipeline-schema/keywords/keyword_table.h"

namespace gantry::schema::keywords {

namespace {

// GitLab: script arrays may nest up to 10 levels (deep nesting comes from !reference).
constexpr int kMaxScriptNesting = 10;

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

std::string key_path(std::string_view head, std::string_view key) {
  if (head.empty()) return std::string(key);
  return std::string(head) + ":" + std::string(key);
}

std::string Reader::prefixed(std::string_view message) const {
  if (owner_.empty()) return std::string(message);
  return owner_ + ": " + std::string(message);
}

void Reader::error(const SourceLocation& loc, std::string_view message) {
  diags_.error(loc, prefixed(message));
}

void Reader::warning(const SourceLocation& loc, std::string_view message) {
  diags_.warning(loc, prefixed(message));
}

void Reader::type_error(const Node& n, std::string_view path, std::string_view expected) {
  error(n.loc(), quote(path) + " must be " + std::string(expected) + ", not " + n.type_name());
}

const Node* Reader::required(const Node& n, std::string_view path, std::string_view key) {
  const Node* value = n.get(key);
  if (value == nullptr) error(n.loc(), quote(key_path(path, key)) + " is required");
  return value;
}

bool Reader::check_keys(const Node& n, std::string_view ctx, std::string_view path,
                        std::vector<SkippedKeyword>* skipped) {
  if (!n.is_map()) {
    type_error(n, path, "a map");
    return false;
  }
  auto table = keywords_for(ctx);
  for (const auto& e : n.entries()) {
    const Keyword* k = nullptr;
    for (const auto& cand : table)
      if (cand.name == e.key) k = &cand;
    std::string full = key_path(path, e.key);
    if (k == nullptr) {
      std::string msg = "unknown keyword " + quote(e.key);
      if (!path.empty()) msg += " in " + quote(path);
      if (auto s = did_you_mean(e.key, table)) msg += " (did you mean " + quote(*s) + "?)";
      error(e.key_loc, msg);
    } else if (k->support == Support::kSkipped) {
      if (ctx == "job" && e.key == "trigger") {
        warning(e.key_loc, "'trigger' (downstream pipelines) is not executed by gantry; the job "
                           "is listed but not run");
      } else {
        warning(e.key_loc, quote(full) + " is not executed by gantry; it is ignored");
      }
      if (skipped != nullptr) skipped->push_back({full, e.key_loc});
    }
  }
  return true;
}

std::optional<std::string> Reader::string(const Node& n, std::string_view path) {
  if (n.is_scalar() && n.scalar_type() == ScalarType::kString) return n.text();
  type_error(n, path, "a string");
  return std::nullopt;
}

std::optional<std::string> Reader::string_or_number(const Node& n, std::string_view path) {
  if (n.is_scalar()) {
    auto t = n.scalar_type();
    if (t == ScalarType::kString || t == ScalarType::kInt || t == ScalarType::kFloat) {
      return n.text();
    }
  }
  type_error(n, path, "a string or a number");
  return std::nullopt;
}

std::optional<std::string> Reader::variable_value(const Node& n, std::string_view path) {
  if (n.is_scalar()) {
    auto t = n.scalar_type();
    if (t == ScalarType::kString || t == ScalarType::kInt) return n.text();
    if (t == ScalarType::kBool || t == ScalarType::kFloat) {
      error(n.loc(), quote(path) + " must be a string or an integer, not " + n.type_name() +
                         " (quote it: \"" + n.text() + "\")");
      return std::nullopt;
    }
  }
  type_error(n, path, "a string or an integer");
  return std::nullopt;
}

std::optional<bool> Reader::boolean(const Node& n, std::string_view path) {
  if (auto b = n.as_bool()) return b;
  type_error(n, path, "true or false");
  return std::nullopt;
}

std::optional<std::int64_t> Reader::integer(const Node& n, std::string_view path,
                                            std::int64_t min, std::int64_t max) {
  auto v = n.as_int();
  if (!v) {
    type_error(n, path, "an integer");
    return std::nullopt;
  }
  if (*v < min || *v > max) {
    error(n.loc(), quote(path) + " must be between " + std::to_string(min) + " and " +
                       std::to_string(max) + ", not " + std::to_string(*v));
    return std::nullopt;
  }
  return v;
}

std::optional<std::vector<std::string>> Reader::string_list(const Node& n, std::string_view path,
                                                            bool single_ok) {
  auto located = located_list(n, path, single_ok);
  if (!located) return std::nullopt;
  std::vector<std::string> out;
  out.reserve(located->size());
  for (auto& l : *located) out.push_back(std::move(l.value));
  return out;
}

std::optional<std::vector<LocatedString>> Reader::located_list(const Node& n,
                                                               std::string_view path,
                                                               bool single_ok) {
  std::vector<LocatedString> out;
  if (single_ok && n.is_scalar() && n.scalar_type() == ScalarType::kString) {
    out.push_back({n.text(), n.loc(), n.style() == ScalarStyle::kQuoted});
    return out;
  }
  if (!n.is_sequence()) {
    type_error(n, path, single_ok ? "a string or a list of strings" : "a list of strings");
    return std::nullopt;
  }
  bool ok = true;
  for (const auto& item : n.items()) {
    if (item.is_scalar() && item.scalar_type() == ScalarType::kString) {
      out.push_back({item.text(), item.loc(), item.style() == ScalarStyle::kQuoted});
    } else {
      error(item.loc(),
            "each item of " + quote(path) + " must be a string, not " + item.type_name());
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::string> Reader::one_of(const Node& n, std::string_view path,
                                          std::initializer_list<std::string_view> allowed) {
  auto s = string(n, path);
  if (!s) return std::nullopt;
  for (auto a : allowed)
    if (a == *s) return s;
  std::string list;
  std::vector<std::string> names;
  for (auto a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
    names.emplace_back(a);
  }
  std::string msg = quote(path) + " must be one of " + list + "; got " + quote(*s);
  if (auto m = did_you_mean(*s, std::span<const std::string>(names))) {
    msg += " (did you mean " + quote(*m) + "?)";
  }
  error(n.loc(), msg);
  return std::nullopt;
}

std::optional<std::string> Reader::duration(const Node& n, std::string_view path, bool never_ok,
                                            std::int64_t* seconds) {
  auto s = string(n, path);
  if (!s) return std::nullopt;
  if (never_ok && *s == "never") return s;
  auto secs = parse_duration(*s);
  if (!secs) {
    error(n.loc(), quote(path) + " must be a duration such as '30 minutes' or '1h 30m', not " +
                       quote(*s));
    return std::nullopt;
  }
  if (seconds != nullptr) *seconds = *secs;
  return s;
}

void Reader::flatten_script(const Node& n, std::string_view path, int depth, Script& out,
                            bool& ok) {
  for (const auto& item : n.items()) {
    if (item.is_scalar() && item.scalar_type() == ScalarType::kString) {
      out.lines.push_back(item.text());
    } else if (item.is_sequence() && depth < kMaxScriptNesting) {
      flatten_script(item, path, depth + 1, out, ok);
    } else if (item.is_sequence()) {
      error(item.loc(), quote(path) + " nests lists deeper than " +
                            std::to_string(kMaxScriptNesting) + " levels");
      ok = false;
    } else {
      std::string msg =
          "each line of " + quote(path) + " must be a string, not " + item.type_name();
      if (item.is_map()) msg += " (quote a line that contains ': ')";
      if (item.is_scalar()) msg += " (quote it)";
      error(item.loc(), msg);
      ok = false;
    }
  }
}

std::optional<Script> Reader::script(const Node& n, std::string_view path) {
  Script out;
  out.loc = n.loc();
  if (n.is_scalar() && n.scalar_type() == ScalarType::kString) {
    out.lines.push_back(n.text());
    return out;
  }
  if (!n.is_sequence()) {
    type_error(n, path, "a string or a list of strings");
    return std::nullopt;
  }
  bool ok = true;
  flatten_script(n, path, 1, out, ok);
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::vector<int>> Reader::int_list(const Node& n, std::string_view path) {
  std::vector<int> out;
  if (n.is_scalar()) {
    auto v = integer(n, path, 0, 255);
    if (!v) return std::nullopt;
    out.push_back(static_cast<int>(*v));
    return out;
  }
  if (!n.is_sequence()) {
    type_error(n, path, "an integer or a list of integers");
    return std::nullopt;
  }
  bool ok = true;
  for (const auto& item : n.items()) {
    auto v = integer(item, path, 0, 255);
    if (v) out.push_back(static_cast<int>(*v));
    else ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

Variables Reader::variables(const Node& n, std::string_view path, bool global) {
  Variables out;
  if (n.is_null()) return out;
  if (!n.is_map()) {
    type_error(n, path, "a map of variable names to values");
    return out;
  }
  for (const auto& e : n.entries()) {
    std::string vpath = key_path(path, e.key);
    Variable v;
    v.name = e.key;
    v.loc = e.key_loc;
    if (e.key.empty()) {
      error(e.key_loc, "a variable name in " + quote(path) + " is empty");
      continue;
    }
    if (e.value.is_map()) {
      if (!check_keys(e.value, global ? "global:variables:entry" : "variables:entry", vpath)) {
        continue;
      }
      if (const Node* value = e.value.find("value")) {
        if (auto s = variable_value(*value, key_path(vpath, "value"))) v.value = *s;
      }
      if (const Node* d = e.value.find("description")) {
        v.description = string(*d, key_path(vpath, "description"));
      }
      if (const Node* o = e.value.find("options")) {
        if (auto list = string_list(*o, key_path(vpath, "options"))) {
          v.options = std::move(*list);
          if (!v.options.empty() &&
              std::find(v.options.begin(), v.options.end(), v.value) == v.options.end()) {
            error(o->loc(), quote(key_path(vpath, "options")) + " must include the value " +
                                quote(v.value));
          }
        }
      }
      if (const Node* x = e.value.find("expand")) {
        if (auto b = boolean(*x, key_path(vpath, "expand"))) v.expand = *b;
      }
    } else if (auto s = variable_value(e.value, vpath)) {
      v.value = *s;
    } else {
      continue;
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace gantry::schema::keywords
