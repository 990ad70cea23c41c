#include "pipeline-schema/plan.h"

#include <algorithm>
#include <map>

#include "pipeline-schema/dag.h"
#include "pipeline-schema/matrix.h"
#include "pipeline-schema/refs.h"
#include "pipeline-schema/rules_expr/eval.h"

namespace gantry::schema {

const PlannedJob* Plan::find_job(std::string_view name) const {
  for (const auto& j : jobs) {
    if (j.name == name) return &j;
  }
  return nullptr;
}

namespace {

rules_expr::VariableLookup lookup_in(const VariableSet& vars) {
  return [&vars](std::string_view name) { return vars.value_of(name); };
}

void add_model_variables(VariableSet& into, const Variables& vars) {
  for (const auto& v : vars) into.set(v.name, v.value, v.expand);
}

// GitLab's Rules::Rule#matches?: every clause the rule has must hold; a rule without clauses
// always matches.
bool rule_matches(const Rule& rule, const TriggerContext& trigger, const VariableSet& vars) {
  if (rule.if_expr) {
    auto parsed = rules_expr::parse(rule.if_expr->value);
    auto* expr = std::get_if<rules_expr::Expression>(&parsed);
    if (!expr || !rules_expr::evaluate(*expr, lookup_in(vars))) return false;
  }
  if (rule.changes && !changes_match(*rule.changes, trigger)) return false;
  if (rule.exists && !exists_match(*rule.exists, trigger)) return false;
  return true;
}

const Rule* first_matching_rule(const std::vector<Rule>& rules, const TriggerContext& trigger,
                                const VariableSet& vars) {
  for (const auto& rule : rules) {
    if (rule_matches(rule, trigger, vars)) return &rule;
  }
  return nullptr;
}

std::string describe_trigger(const TriggerContext& t) {
  return (t.is_tag() ? "tag '" + t.tag + "'" : "branch '" + t.branch + "'") + " (source " +
         t.source + ")";
}

// One job instance that the rules let in, before needs are resolved.
struct Candidate {
  const Job* job;
  JobInstance instance;
  PlannedJob planned;
  std::optional<std::vector<Need>> needs;  // the job's or the matching rule's
};

Image expand_image(Image image, const VariableSet& vars) {
  image.name = expand_for_display(image.name, vars);
  return image;
}

}  // namespace

PlanResult make_plan(const Pipeline& pipeline, const TriggerContext& trigger) {
  PlanResult result;
  Plan& plan = result.plan;
  Diagnostics& diags = result.diagnostics;
  plan.file = pipeline.file;

  std::string project_path;
  VariableSet predefined = predefined_pipeline_variables(trigger, pipeline.file);
  project_path = *predefined.value_of("CI_PROJECT_PATH");
  VariableSet trigger_vars;
  for (const auto& [k, v] : trigger.variables) trigger_vars.set(k, v);
  if (auto p = trigger_vars.value_of("CI_PROJECT_PATH")) project_path = *p;

  // Pipeline-level variables: what workflow:rules see.
  VariableSet pipeline_vars = predefined;
  add_model_variables(pipeline_vars, pipeline.variables);
  pipeline_vars.set_all(trigger_vars);

  VariableSet workflow_vars;
  if (pipeline.workflow.rules) {
    const Rule* rule = first_matching_rule(*pipeline.workflow.rules, trigger, pipeline_vars);
    if (!rule) {
      plan.created = false;
      plan.stopped_reason = "workflow:rules: no rule matches " + describe_trigger(trigger) +
                            ", so no pipeline is created";
    } else if (rule->when == When::kNever) {
      plan.created = false;
      plan.stopped_reason = "workflow:rules: the rule at " + rule->loc.str() +
                            " matches with 'when: never', so no pipeline is created for " +
                            describe_trigger(trigger);
    } else {
      add_model_variables(workflow_vars, rule->variables);
    }
  }
  {
    VariableSet v = predefined;
    add_model_variables(v, pipeline.variables);
    v.set_all(workflow_vars);
    v.set_all(trigger_vars);
    auto expanded = expand_all(v);
    if (!expanded.ok()) {
      diags.error(
          pipeline.workflow.loc.known() ? pipeline.workflow.loc : SourceLocation{pipeline.file},
          expanded.error().message());
      plan.variables = v;
    } else {
      plan.variables = std::move(expanded).value();
    }
    if (pipeline.workflow.name)
      plan.name = expand_for_display(*pipeline.workflow.name, plan.variables);
  }
  if (!plan.created) return result;

  // Every instance of every job that the rules or only/except let in, in file order.
  std::vector<Candidate> candidates;
  std::map<std::string, std::vector<JobInstance>> instances_of;  // job key → all instances
  std::map<std::string, std::vector<std::string>> included_of;   // job key → included names
  for (const Job& job : pipeline.jobs) {
    auto instances = expand_parallel(job.name, job.parallel);
    if (!instances.ok()) {
      diags.error(job.parallel ? job.parallel->loc : job.loc, instances.error().message());
      continue;
    }
    instances_of[job.name] = *instances;
    for (const JobInstance& inst : *instances) {
      VariableSet vars = predefined;
      vars.set_all(predefined_job_variables(inst.name, job.stage, inst.node_index,
                                            inst.node_total));
      for (const auto& v : pipeline.variables) {
        if (job.inherit.inherits_variable(v.name)) vars.set(v.name, v.value, v.expand);
      }
      vars.set_all(workflow_vars);
      add_model_variables(vars, job.variables);
      for (const auto& [k, v] : inst.variables) vars.set(k, v);
      vars.set_all(trigger_vars);

      Candidate c{&job, inst, {}, job.needs};
      PlannedJob& pj = c.planned;
      pj.when = job.when;
      pj.start_in = job.start_in;
      bool manual_from_rule = false;
      std::optional<bool> rule_interruptible;
      std::optional<AllowFailure> allow_failure = job.allow_failure;
      if (job.rules) {
        const Rule* rule = first_matching_rule(*job.rules, trigger, vars);
        if (!rule || rule->when == When::kNever) continue;
        if (rule->when) {
          pj.when = *rule->when;
          manual_from_rule = *rule->when == When::kManual;
        }
        if (rule->start_in) pj.start_in = rule->start_in;
        if (rule->allow_failure) allow_failure = rule->allow_failure;
        if (rule->needs) c.needs = rule->needs;
        rule_interruptible = rule->interruptible;
        add_model_variables(vars, rule->variables);
        vars.set_all(trigger_vars);
      } else {
        if (job.when == When::kNever) continue;
        if (!only_except_allows(job.only, job.except, trigger, project_path, lookup_in(vars))) {
          continue;
        }
      }
      if (allow_failure) {
        // GitLab: `exit_codes:` allows failure for those codes only; the job itself is not
        // "allowed to fail" (its allow_failure attribute stays false).
        pj.allow_failure = allow_failure->allowed && allow_failure->exit_codes.empty();
        pj.allow_failure_exit_codes = allow_failure->exit_codes;
      } else {
        // GitLab: manual jobs may fail (they are optional) unless the manual comes from rules.
        pj.allow_failure = pj.when == When::kManual && !manual_from_rule;
      }
      if (pj.when != When::kDelayed) pj.start_in.reset();

      auto expanded = expand_all(vars);
      if (!expanded.ok()) {
        diags.error(job.loc, "job '" + inst.name + "': " + expanded.error().message());
        pj.variables = vars;
      } else {
        pj.variables = std::move(expanded).value();
      }
      pj.name = inst.name;
      pj.job_name = job.name;
      pj.stage = job.stage;
      pj.node_index = inst.node_index;
      pj.node_total = inst.node_total;
      pj.loc = job.loc;
      if (job.image) pj.image = expand_image(*job.image, pj.variables);
      for (Service s : job.services) {
        s.name = expand_for_display(s.name, pj.variables);
        if (s.alias) s.alias = expand_for_display(*s.alias, pj.variables);
        pj.services.push_back(std::move(s));
      }
      if (job.before_script) pj.before_script = job.before_script->lines;
      if (job.script) pj.script = job.script->lines;
      if (job.after_script) pj.after_script = job.after_script->lines;
      pj.artifacts = job.artifacts;
      pj.cache = job.cache;
      pj.timeout_seconds = job.timeout_seconds;
      pj.retry = job.retry;
      pj.interruptible = rule_interruptible.value_or(job.interruptible.value_or(false));
      for (const auto& t : job.tags) pj.tags.push_back(expand_for_display(t, pj.variables));
      pj.environment = job.environment;
      if (pj.environment) {
        pj.environment->name = expand_for_display(pj.environment->name, pj.variables);
        if (pj.environment->url) {
          pj.environment->url = expand_for_display(*pj.environment->url, pj.variables);
        }
      }
      if (job.resource_group)
        pj.resource_group = expand_for_display(*job.resource_group, pj.variables);
      pj.coverage = job.coverage;
      for (const auto& s : job.skipped) pj.skipped_keywords.push_back(s.keyword);
      pj.is_trigger = job.is_trigger;
      included_of[job.name].push_back(inst.name);
      candidates.push_back(std::move(c));
    }
  }

  // Stage order, then file order (stable sort keeps file order within a stage).
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](const Candidate& a, const Candidate& b) {
                     return pipeline.stage_index(a.job->stage) < pipeline.stage_index(b.job->stage);
                   });
  std::map<std::string, int> stage_of_instance;
  for (const auto& c : candidates) {
    stage_of_instance[c.planned.name] = pipeline.stage_index(c.job->stage);
  }

  // needs → instance names of jobs in this pipeline.
  for (auto& c : candidates) {
    if (!c.needs) continue;
    std::vector<PlannedNeed> resolved;
    for (const Need& need : *c.needs) {
      if (need.project || need.pipeline) continue;  // other pipelines: not executed locally
      std::vector<std::string> names;
      auto inst_it = instances_of.find(need.job);
      if (inst_it != instances_of.end()) {
        std::vector<std::string> wanted;
        if (!need.matrix.empty()) {
          std::vector<MatrixEntry> filter;
          for (const auto& entry : need.matrix) filter.push_back(entry);
          wanted = select_matrix_instances(inst_it->second, filter);
          if (wanted.empty() && !need.optional) {
            diags.error(need.loc, "job '" + c.planned.name + "' needs '" + need.job +
                                      "' with a parallel:matrix that matches none of its jobs");
            continue;
          }
        } else {
          for (const auto& i : inst_it->second) wanted.push_back(i.name);
        }
        for (const auto& w : wanted) {
          if (stage_of_instance.count(w)) names.push_back(w);
        }
      } else if (stage_of_instance.count(need.job)) {
        names.push_back(need.job);  // a needed instance named in full: "build: [aws, app]"
      } else {
        // Not a job of the file: the loader reports it (or it is optional).
        continue;
      }
      if (names.empty()) {
        if (!need.optional) {
          diags.error(need.loc, "job '" + c.planned.name + "' needs '" + need.job +
                                    "', which is not in the pipeline for " +
                                    describe_trigger(trigger) +
                                    " (its rules exclude it); mark the need 'optional: true' "
                                    "or give both jobs the same rules");
        }
        continue;
      }
      for (auto& n : names) {
        if (n == c.planned.name) continue;
        PlannedNeed pn{n, need.artifacts};
        if (std::find(resolved.begin(), resolved.end(), pn) == resolved.end()) {
          resolved.push_back(std::move(pn));
        }
      }
    }
    c.planned.needs = std::move(resolved);
  }

  // The model-level needs checks (missing jobs, later stages, cycles between job keys) belong
  // to loading; running them here too costs nothing when the loader already did (a pipeline
  // with errors is never planned) and keeps make_plan safe on any model. Cycles between
  // instances are checked only when the job keys are acyclic, so one cycle is reported once.
  Diagnostics model_needs = check_needs(pipeline);
  diags.append(model_needs);
  if (!model_needs.has_errors()) {
    std::vector<DagNode> nodes;
    for (const auto& c : candidates) {
      DagNode n{c.planned.name, {}};
      if (c.planned.needs) {
        for (const auto& need : *c.planned.needs) n.needs.push_back(need.job);
      }
      nodes.push_back(std::move(n));
    }
    if (auto cycle = find_cycle(nodes)) {
      const Candidate* first = nullptr;
      for (const auto& c : candidates) {
        if (c.planned.name == (*cycle)[0]) first = &c;
      }
      diags.error(first ? first->job->loc : SourceLocation{pipeline.file},
                  "needs form a cycle: " + format_cycle(*cycle));
    }
  }

  // dependencies: listed (resolved to instances of earlier stages), else from needs, else every
  // job of earlier stages.
  for (auto& c : candidates) {
    int my_stage = stage_of_instance[c.planned.name];
    std::vector<std::string>& deps = c.planned.dependencies;
    if (c.job->dependencies) {
      for (const auto& d : *c.job->dependencies) {
        auto it = included_of.find(d.value);
        std::vector<std::string> names;
        if (it != included_of.end()) {
          names = it->second;
        } else if (stage_of_instance.count(d.value)) {
          names.push_back(d.value);
        }
        for (const auto& n : names) {
          if (stage_of_instance[n] < my_stage &&
              std::find(deps.begin(), deps.end(), n) == deps.end()) {
            deps.push_back(n);
          }
        }
      }
    } else if (c.planned.needs) {
      for (const auto& n : *c.planned.needs) {
        if (n.artifacts) deps.push_back(n.job);
      }
    } else {
      for (const auto& other : candidates) {
        if (stage_of_instance[other.planned.name] < my_stage) deps.push_back(other.planned.name);
      }
    }
  }

  std::vector<bool> has_jobs(pipeline.stages.size(), false);
  for (auto& c : candidates) {
    int s = pipeline.stage_index(c.job->stage);
    if (s >= 0) has_jobs[s] = true;
    plan.jobs.push_back(std::move(c.planned));
  }
  for (size_t i = 0; i < pipeline.stages.size(); ++i) {
    if (has_jobs[i]) plan.stages.push_back(pipeline.stages[i].value);
  }
  // GitLab creates no pipeline without jobs, nor one whose jobs are all in .pre/.post.
  bool only_pre_post = std::all_of(plan.jobs.begin(), plan.jobs.end(), [](const PlannedJob& j) {
    return j.stage == ".pre" || j.stage == ".post";
  });
  if (plan.jobs.empty() || only_pre_post) {
    plan.created = false;
    plan.stopped_reason = plan.jobs.empty()
                              ? "no job runs for " + describe_trigger(trigger) +
                                    ", so no pipeline is created"
                              : "only .pre/.post jobs run for " + describe_trigger(trigger) +
                                    ", so no pipeline is created (GitLab needs another job)";
    plan.jobs.clear();
    plan.stages.clear();
  }
  return result;
}

OrderedJson plan_summary_json(const Plan& plan) {
  OrderedJson out;
  out["stages"] = OrderedJson::array();
  for (const auto& s : plan.stages) out["stages"].push_back(s);
  out["jobs"] = OrderedJson::array();
  for (const auto& j : plan.jobs) {
    OrderedJson job;
    job["name"] = j.name;
    job["stage"] = j.stage;
    job["when"] = std::string(when_name(j.when));
    job["allow_failure"] = j.allow_failure;
    job["image"] = j.image ? OrderedJson(j.image->name) : OrderedJson(nullptr);
    if (j.needs) {
      job["needs"] = OrderedJson::array();
      for (const auto& n : *j.needs) job["needs"].push_back(n.job);
    } else {
      job["needs"] = nullptr;
    }
    job["script"] = OrderedJson::array();
    for (const auto& line : j.script) {
      job["script"].push_back(expand_for_display(line, j.variables));
    }
    out["jobs"].push_back(std::move(job));
  }
  return out;
}

}  // namespace gantry::schema
