#include "pipeline-schema/refs.h"

#include "pipeline-schema/glob.h"
#include "pipeline-schema/regex.h"

namespace gantry::schema {

namespace {

// The `only`/`except` keyword GitLab derives from a pipeline source (its plural, with GitLab's
// special cases).
std::string_view source_keyword(std::string_view source) {
  if (source == "push") return "pushes";
  if (source == "schedule") return "schedules";
  if (source == "trigger") return "triggers";
  if (source == "merge_request_event") return "merge_requests";
  if (source == "external_pull_request_event") return "external_pull_requests";
  if (source == "pipeline" || source == "parent_pipeline" || source == "ondemand_dast_scan") {
    return "pipelines";
  }
  return source;  // web, api, chat, external, webide
}

bool is_branch_pipeline(const TriggerContext& t) {
  return !t.is_tag() && t.source != "merge_request_event" &&
         t.source != "external_pull_request_event";
}

}  // namespace

bool ref_pattern_matches(std::string_view pattern, const TriggerContext& trigger,
                         std::string_view project_path) {
  std::string_view ref_part = pattern;
  // `ref@path`: the path is matched literally. A regex may itself contain '@' only as \x40.
  if (auto at = pattern.find('@'); at != std::string_view::npos) {
    ref_part = pattern.substr(0, at);
    if (pattern.substr(at + 1) != project_path) return false;
  }
  if (ref_part == "tags" && trigger.is_tag()) return true;
  if (ref_part == "branches" && is_branch_pipeline(trigger)) return true;
  if (ref_part == trigger.source || ref_part == source_keyword(trigger.source)) return true;
  if (!trigger.is_tag() && !is_branch_pipeline(trigger)) return false;
  if (Regex::looks_like_literal(ref_part)) {
    auto re = Regex::from_literal(ref_part);
    if (re.ok()) return re->search(trigger.ref());
  }
  return ref_part == trigger.ref();
}

bool changes_match(const Changes& changes, const TriggerContext& trigger) {
  if (!trigger.changed_files) return true;
  for (const auto& file : *trigger.changed_files) {
    for (const auto& glob : changes.paths) {
      if (glob_match(glob, file)) return true;
    }
  }
  return false;
}

bool exists_match(const Exists& exists, const TriggerContext& trigger) {
  if (exists.project) return false;
  for (const auto& file : trigger.project_files) {
    for (const auto& glob : exists.paths) {
      if (glob_match(glob, file)) return true;
    }
  }
  return false;
}

FilterConditions evaluate_filter(const RefFilter& filter, const TriggerContext& trigger,
                                 std::string_view project_path,
                                 const rules_expr::VariableLookup& lookup) {
  FilterConditions c;
  if (!filter.refs.empty()) {
    c.refs = false;
    for (const auto& r : filter.refs) {
      if (ref_pattern_matches(r.value, trigger, project_path)) c.refs = true;
    }
  }
  if (!filter.variables.empty()) {
    c.variables = false;
    for (const auto& v : filter.variables) {
      auto parsed = rules_expr::parse(v.value);
      if (auto* e = std::get_if<rules_expr::Expression>(&parsed)) {
        if (rules_expr::evaluate(*e, lookup)) c.variables = true;
      }
    }
  }
  if (filter.changes) c.changes = changes_match(*filter.changes, trigger);
  // No Kubernetes integration exists for a local pipeline.
  if (filter.kubernetes) c.kubernetes = false;
  return c;
}

bool only_except_allows(const std::optional<RefFilter>& only,
                        const std::optional<RefFilter>& except, const TriggerContext& trigger,
                        std::string_view project_path, const rules_expr::VariableLookup& lookup) {
  if (only) {
    auto c = evaluate_filter(*only, trigger, project_path, lookup);
    for (const auto& cond : {c.refs, c.variables, c.changes, c.kubernetes}) {
      if (cond && !*cond) return false;
    }
  } else {
    if (!ref_pattern_matches("branches", trigger, project_path) &&
        !ref_pattern_matches("tags", trigger, project_path)) {
      return false;
    }
  }
  if (except) {
    auto c = evaluate_filter(*except, trigger, project_path, lookup);
    for (const auto& cond : {c.refs, c.variables, c.changes, c.kubernetes}) {
      if (cond && *cond) return false;
    }
  }
  return true;
}

}  // namespace gantry::schema
