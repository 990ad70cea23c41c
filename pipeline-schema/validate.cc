#include "pipeline-schema/validate.h"

#include <set>
#include <span>
#include <variant>

#include "pipeline-schema/dag.h"
#include "pipeline-schema/extends.h"
#include "pipeline-schema/keywords/keyword_table.h"
#include "pipeline-schema/rules_expr/parser.h"

namespace gantry::schema {

namespace {

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// Where column `column` (1-based, in the expression text) of an expression sits in the file.
// Exact for one-line scalars, which expressions nearly always are.
SourceLocation expression_column(const LocatedString& expr, int column) {
  SourceLocation loc = expr.loc;
  if (loc.known() && expr.value.find('\n') == std::string::npos) {
    loc.column += column - 1 + (expr.quoted ? 1 : 0);
  }
  return loc;
}

void check_expression(const LocatedString& expr, std::string_view owner, std::string_view path,
                      Diagnostics& diags) {
  auto parsed = rules_expr::parse(expr.value);
  if (const auto* err = std::get_if<rules_expr::SyntaxError>(&parsed)) {
    std::string prefix = owner.empty() ? "" : std::string(owner) + ": ";
    diags.error(expression_column(expr, err->column),
                prefix + "invalid " + quote(path) + " expression: " + err->message);
  }
}

void check_rules(const std::optional<std::vector<Rule>>& rules, std::string_view owner,
                 std::string_view path, Diagnostics& diags) {
  if (!rules) return;
  for (const auto& rule : *rules) {
    if (rule.if_expr) check_expression(*rule.if_expr, owner, std::string(path) + ":if", diags);
  }
}

void check_ref_filter(const std::optional<RefFilter>& f, std::string_view owner,
                      std::string_view path, Diagnostics& diags) {
  if (!f) return;
  for (const auto& v : f->variables) {
    check_expression(v, owner, std::string(path) + ":variables", diags);
  }
}

}  // namespace

void validate_pipeline(const Pipeline& p, Diagnostics& diags) {
  diags.append(check_needs(p));
  std::vector<std::string> stage_names;
  for (const auto& s : p.stages) stage_names.push_back(s.value);
  std::string stage_list;
  for (const auto& s : stage_names) stage_list += (stage_list.empty() ? "" : ", ") + s;

  check_rules(p.workflow.rules, "", "workflow:rules", diags);

  for (const auto& job : p.jobs) {
    std::string owner = job_owner(job.name);
    bool runs_steps = false;  // `run:` (CI/CD steps) replaces script; gantry warns it is skipped
    for (const auto& k : job.skipped) runs_steps = runs_steps || k.keyword == "run";
    if (!job.script && !job.is_trigger && !runs_steps) {
      diags.error(job.loc, owner + " has no 'script' (every job needs 'script', or 'trigger')");
    }
    int stage = p.stage_index(job.stage);
    if (stage < 0) {
      std::string msg = owner + ": stage " + quote(job.stage) + " does not exist";
      if (auto s = keywords::did_you_mean(job.stage, std::span<const std::string>(stage_names))) {
        msg += " (did you mean " + quote(*s) + "?)";
      }
      msg += "; the stages are " + stage_list;
      diags.error(job.stage_loc, msg);
    }
    check_rules(job.rules, owner, "rules", diags);
    // GitLab's own pipeline warning: without workflow:rules, a job whose last rule is a bare
    // `when:` also matches merge request pipelines, so one push can start two pipelines.
    if (job.rules && !job.rules->empty() && !p.workflow.rules) {
      const Rule& last = job.rules->back();
      bool bare_when = last.when && *last.when != When::kNever && !last.if_expr &&
                       !last.changes && !last.exists && !last.start_in && !last.allow_failure &&
                       last.variables.empty() && !last.needs && !last.interruptible;
      if (bare_when) {
        diags.warning(last.loc, owner + ": a last rule of only 'when: " +
                                    std::string(when_name(*last.when)) +
                                    "' without 'workflow:rules' may start two pipelines for one "
                                    "push (branch and merge request), as GitLab warns");
      }
    }
    check_ref_filter(job.only, owner, "only", diags);
    check_ref_filter(job.except, owner, "except", diags);

    if (job.dependencies) {
      for (const auto& dep : *job.dependencies) {
        const Job* other = p.find_job(dep.value);
        if (other == nullptr) {
          std::vector<std::string> names;
          for (const auto& j : p.jobs) names.push_back(j.name);
          std::string msg =
              owner + ": 'dependencies' names " + quote(dep.value) + ", which is not a job";
          if (auto s = keywords::did_you_mean(dep.value, std::span<const std::string>(names))) {
            msg += " (did you mean " + quote(*s) + "?)";
          }
          diags.error(dep.loc, msg);
          continue;
        }
        int other_stage = p.stage_index(other->stage);
        if (stage >= 0 && other_stage >= 0 && other_stage >= stage && !job.needs) {
          diags.error(dep.loc, owner + ": 'dependencies' names " + quote(dep.value) +
                                   ", which is not in an earlier stage");
        }
        if (job.needs) {
          bool needed = false;
          for (const auto& n : *job.needs) needed = needed || n.job == dep.value;
          if (!needed) {
            diags.error(dep.loc, owner + ": 'dependencies' names " + quote(dep.value) +
                                     ", which must also be in 'needs'");
          }
        }
      }
    }
    if (job.environment && job.environment->on_stop &&
        p.find_job(*job.environment->on_stop) == nullptr) {
      diags.error(job.environment->loc, owner + ": 'environment:on_stop' names " +
                                            quote(*job.environment->on_stop) +
                                            ", which is not a job");
    }
  }
}

}  // namespace gantry::schema
