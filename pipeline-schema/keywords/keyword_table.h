// The table of GitLab CI keywords Gantry knows, per context (top level, job, default, and every
// nested map such as artifacts or rules), with whether Gantry executes each one or accepts it
// with a warning. Unknown keys are errors with a "did you mean" from edit distance.
// Used by the keyword readers (keywords/*.cc) and by tooling. Immutable data; thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gantry::schema::keywords {

enum class Support {
  kExecuted,  // Gantry implements it
  kSkipped,   // valid GitLab keyword that Gantry accepts but does not execute (a warning says so)
};

struct Keyword {
  std::string_view name;
  Support support;
};

// Contexts: "global", "job", "default", "workflow", "rules", "workflow:rules", "include",
// "include:rules", "artifacts", "cache", "cache:key", "image", "image:docker", "services",
// "environment", "retry", "needs", "inherit", "parallel", "allow_failure", "only",
// "variables:entry", "global:variables:entry", "changes", "exists", "trigger",
// "workflow:auto_cancel".
std::span<const Keyword> keywords_for(std::string_view context);
const Keyword* find_keyword(std::string_view context, std::string_view name);

// Edit distance (Levenshtein with adjacent transpositions), for suggestions.
int edit_distance(std::string_view a, std::string_view b);

// The closest candidate if it is close enough to be a likely typo: distance <= 2 for words of
// 7 or more letters, <= 1 for shorter ones; ties go to the first listed.
std::optional<std::string> did_you_mean(std::string_view word, std::span<const Keyword> candidates);
std::optional<std::string> did_you_mean(std::string_view word,
                                        std::span<const std::string> candidates);

}  // namespace gantry::schema::keywords
