// Reader: typed reads of keyword values out of Nodes, for one owner (a job, `default`, the top
// level). Every problem becomes a diagnostic naming the owner and the keyword path in GitLab's
// colon notation ("job 'build': 'artifacts:when' must be one of ..."), so one pass reports all
// mistakes. Used by the keyword readers and the model builder. Not thread-safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline-schema/diagnostics.h"
#include "pipeline-schema/node.h"
#include "pipeline-schema/pipeline.h"

namespace gantry::schema::keywords {

class Reader {
 public:
  // owner: "job 'build'", or "" for top-level keywords.
  Reader(Diagnostics& diags, std::string owner) : diags_(diags), owner_(std::move(owner)) {}

  Diagnostics& diags() { return diags_; }
  const std::string& owner() const { return owner_; }

  void error(const SourceLocation& loc, std::string_view message);
  void warning(const SourceLocation& loc, std::string_view message);
  // "'<path>' must be <expected>, not <what n is>".
  void type_error(const Node& n, std::string_view path, std::string_view expected);

  // Checks the keys of map `n` against the keyword context `ctx` (keyword_table.h): unknown keys
  // are errors with a suggestion; keys Gantry does not execute get a warning and, when
  // `skipped` is given, are recorded there. Reports a type error and returns false when `n` is
  // not a map.
  bool check_keys(const Node& n, std::string_view ctx, std::string_view path,
                  std::vector<SkippedKeyword>* skipped = nullptr);

  // The value of `key` in map `n` (at `path`); nullptr with "'<path>:<key>' is required" when
  // it is missing.
  const Node* required(const Node& n, std::string_view path, std::string_view key);

  std::optional<std::string> string(const Node& n, std::string_view path);
  // Strings and numbers (as written), for cache keys and similar.
  std::optional<std::string> string_or_number(const Node& n, std::string_view path);
  // Strings and integers (as written): what GitLab takes as a variable value. Floats and
  // booleans are errors in GitLab ("1.10" would silently become 1.1), so they are here too.
  std::optional<std::string> variable_value(const Node& n, std::string_view path);
  std::optional<bool> boolean(const Node& n, std::string_view path);
  std::optional<std::int64_t> integer(const Node& n, std::string_view path, std::int64_t min,
                                      std::int64_t max);
  // A list of strings; `single_ok` also takes one string as a one-element list.
  std::optional<std::vector<std::string>> string_list(const Node& n, std::string_view path,
                                                      bool single_ok = false);
  // Same, keeping each item's location.
  std::optional<std::vector<LocatedString>> located_list(const Node& n, std::string_view path,
                                                         bool single_ok = false);
  // One of `allowed`, with a suggestion when close.
  std::optional<std::string> one_of(const Node& n, std::string_view path,
                                    std::initializer_list<std::string_view> allowed);
  // A duration string (duration.h); `never_ok` also accepts "never". Sets *seconds if given.
  std::optional<std::string> duration(const Node& n, std::string_view path, bool never_ok = false,
                                      std::int64_t* seconds = nullptr);
  // A string, or a list of strings and nested lists of strings (flattened), as `script:` takes.
  std::optional<Script> script(const Node& n, std::string_view path);
  // `variables:`: map of name → string/number, or {value, description, options, expand}
  // (description and options only when `global`).
  Variables variables(const Node& n, std::string_view path, bool global);
  // A list of integers, or one integer (exit codes).
  std::optional<std::vector<int>> int_list(const Node& n, std::string_view path);

 private:
  std::string prefixed(std::string_view message) const;
  void flatten_script(const Node& n, std::string_view path, int depth, Script& out, bool& ok);

  Diagnostics& diags_;
  std::string owner_;
};

// "a" + ":" + "b", skipping an empty head.
std::string key_path(std::string_view head, std::string_view key);

}  // namespace gantry::schema::keywords
