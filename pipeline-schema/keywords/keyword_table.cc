#include "pipeline-schema/keywords/keyword_table.h"

#include <algorithm>
#include <vector>

namespace gantry::schema::keywords {

namespace {

constexpr Support E = Support::kExecuted;
constexpr Support S = Support::kSkipped;

// From GitLab's CI/CD YAML syntax reference (docs.gitlab.com/ee/ci/yaml/).
constexpr Keyword kGlobal[] = {
    {"default", E},      {"include", E},  {"stages", E},   {"variables", E},
    {"workflow", E},     {"image", E},    {"services", E}, {"cache", E},
    {"before_script", E}, {"after_script", E}, {"spec", S},
    {"types", E},  // deprecated alias of stages
};
constexpr Keyword kJob[] = {
    {"after_script", E},  {"allow_failure", E}, {"artifacts", E},     {"before_script", E},
    {"cache", E},         {"coverage", E},      {"dependencies", E},  {"environment", E},
    {"except", E},        {"extends", E},       {"image", E},         {"inherit", E},
    {"interruptible", E}, {"needs", E},         {"only", E},          {"parallel", E},
    {"resource_group", E}, {"retry", E},        {"rules", E},         {"script", E},
    {"services", E},      {"stage", E},         {"start_in", E},      {"tags", E},
    {"timeout", E},       {"variables", E},     {"when", E},          {"trigger", S},
    {"release", S},       {"pages", S},         {"secrets", S},       {"id_tokens", S},
    {"hooks", S},         {"identity", S},      {"dast_configuration", S},
    {"manual_confirmation", S}, {"run", S},
    {"type", E},  // deprecated alias of stage
};
constexpr Keyword kDefault[] = {
    {"after_script", E}, {"artifacts", E}, {"before_script", E}, {"cache", E},
    {"image", E},        {"interruptible", E}, {"retry", E},     {"services", E},
    {"tags", E},         {"timeout", E},   {"hooks", S},         {"id_tokens", S},
};
constexpr Keyword kWorkflow[] = {{"rules", E}, {"name", E}, {"auto_cancel", S}};
constexpr Keyword kWorkflowAutoCancel[] = {{"on_new_commit", S}, {"on_job_failure", S}};
constexpr Keyword kRules[] = {
    {"if", E},   {"changes", E},   {"exists", E},        {"when", E},      {"start_in", E},
    {"allow_failure", E}, {"variables", E}, {"needs", E}, {"interruptible", E},
};
constexpr Keyword kWorkflowRules[] = {
    {"if", E}, {"changes", E}, {"exists", E}, {"when", E}, {"variables", E}, {"auto_cancel", S},
};
constexpr Keyword kInclude[] = {
    {"local", E},    {"remote", E},    {"project", E}, {"ref", E},    {"file", E},
    {"template", E}, {"component", E}, {"rules", E},   {"inputs", S}, {"cache", S},
    {"integrity", S},
};
constexpr Keyword kIncludeRules[] = {{"if", E}, {"changes", E}, {"exists", E}, {"when", E}};
constexpr Keyword kArtifacts[] = {
    {"paths", E}, {"exclude", E}, {"expire_in", E}, {"expose_as", E}, {"name", E},
    {"public", E}, {"access", E}, {"reports", S},   {"untracked", E}, {"when", E},
};
constexpr Keyword kCache[] = {
    {"key", E},  {"paths", E},  {"untracked", E}, {"unprotect", E},
    {"when", E}, {"policy", E}, {"fallback_keys", E},
};
constexpr Keyword kCacheKey[] = {{"files", E}, {"prefix", E}};
constexpr Keyword kImage[] = {
    {"name", E}, {"entrypoint", E}, {"docker", E}, {"pull_policy", E}, {"kubernetes", S},
};
constexpr Keyword kImageDocker[] = {{"platform", E}, {"user", E}};
constexpr Keyword kServices[] = {
    {"name", E},      {"alias", E},       {"entrypoint", E}, {"command", E},
    {"variables", E}, {"pull_policy", E}, {"docker", E},     {"kubernetes", S},
};
constexpr Keyword kEnvironment[] = {
    {"name", E},         {"url", E},        {"on_stop", E},         {"action", E},
    {"auto_stop_in", E}, {"kubernetes", S}, {"deployment_tier", E},
};
constexpr Keyword kRetry[] = {{"max", E}, {"when", E}, {"exit_codes", E}};
constexpr Keyword kNeeds[] = {
    {"job", E}, {"artifacts", E}, {"optional", E}, {"pipeline", E},
    {"project", E}, {"ref", E},   {"parallel", E},
};
constexpr Keyword kInherit[] = {{"default", E}, {"variables", E}};
constexpr Keyword kParallel[] = {{"matrix", E}};
constexpr Keyword kAllowFailure[] = {{"exit_codes", E}};
constexpr Keyword kOnly[] = {{"refs", E}, {"variables", E}, {"changes", E}, {"kubernetes", E}};
constexpr Keyword kVariableEntry[] = {{"value", E}, {"expand", E}};
constexpr Keyword kGlobalVariableEntry[] = {
    {"value", E}, {"description", E}, {"options", E}, {"expand", E},
};
constexpr Keyword kChanges[] = {{"paths", E}, {"compare_to", E}};
constexpr Keyword kExists[] = {{"paths", E}, {"project", E}, {"ref", E}};
// Known, so typos are caught; the `trigger` keyword itself carries the "not executed" warning.
constexpr Keyword kTrigger[] = {
    {"project", E}, {"branch", E}, {"strategy", E}, {"include", E}, {"forward", E}, {"inputs", E},
};

struct Context {
  std::string_view name;
  std::span<const Keyword> keywords;
};

constexpr Context kContexts[] = {
    {"global", kGlobal},
    {"job", kJob},
    {"default", kDefault},
    {"workflow", kWorkflow},
    {"workflow:auto_cancel", kWorkflowAutoCancel},
    {"rules", kRules},
    {"workflow:rules", kWorkflowRules},
    {"include", kInclude},
    {"include:rules", kIncludeRules},
    {"artifacts", kArtifacts},
    {"cache", kCache},
    {"cache:key", kCacheKey},
    {"image", kImage},
    {"image:docker", kImageDocker},
    {"services", kServices},
    {"environment", kEnvironment},
    {"retry", kRetry},
    {"needs", kNeeds},
    {"inherit", kInherit},
    {"parallel", kParallel},
    {"allow_failure", kAllowFailure},
    {"only", kOnly},
    {"variables:entry", kVariableEntry},
    {"global:variables:entry", kGlobalVariableEntry},
    {"changes", kChanges},
    {"exists", kExists},
    {"trigger", kTrigger},
};

bool close_enough(std::string_view word, int distance) {
  return distance <= (word.size() >= 7 ? 2 : 1);
}

}  // namespace

std::span<const Keyword> keywords_for(std::string_view context) {
  for (const auto& c : kContexts)
    if (c.name == context) return c.keywords;
  return {};
}

const Keyword* find_keyword(std::string_view context, std::string_view name) {
  for (const auto& k : keywords_for(context))
    if (k.name == name) return &k;
  return nullptr;
}

int edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus adjacent transpositions ("tset" -> "test" is 1),
  // the commonest typo.
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::optional<std::string> did_you_mean(std::string_view word,
                                        std::span<const Keyword> candidates) {
  std::vector<std::string> names;
  names.reserve(candidates.size());
  for (const auto& k : candidates) names.emplace_back(k.name);
  return did_you_mean(word, std::span<const std::string>(names));
}

std::optional<std::string> did_you_mean(std::string_view word,
                                        std::span<const std::string> candidates) {
  std::optional<std::string> best;
  int best_distance = 1 << 30;
  for (const auto& c : candidates) {
    int d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  if (best && best_distance > 0 && close_enough(word, best_distance)) return best;
  return std::nullopt;
}

}  // namespace gantry::schema::keywords
