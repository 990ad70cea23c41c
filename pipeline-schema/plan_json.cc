// The wire form of a Plan (plan.h): plain JSON objects, optional fields omitted when unset.
#include <map>

#include "pipeline-schema/plan.h"

namespace gantry::schema {

namespace {

Json loc_json(const SourceLocation& l) {
  return Json{{"file", l.file}, {"line", l.line}, {"column", l.column}};
}
SourceLocation loc_from(const Json& j) {
  SourceLocation l;
  if (!j.is_object()) return l;
  l.file = j.value("file", "");
  l.line = j.value("line", 0);
  l.column = j.value("column", 0);
  return l;
}

template <typename T>
void put_opt(Json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}
template <typename T>
void get_opt(const Json& j, const char* key, std::optional<T>& v) {
  if (j.contains(key) && !j.at(key).is_null()) v = j.at(key).get<T>();
}

Json vars_json(const VariableSet& vars) {
  Json a = Json::array();
  for (const auto& v : vars.entries()) {
    Json e{{"name", v.name}, {"value", v.value}};
    if (!v.expand) e["expand"] = false;
    a.push_back(std::move(e));
  }
  return a;
}
VariableSet vars_from(const Json& a) {
  VariableSet v;
  for (const auto& e : a) v.set(e.at("name").get<std::string>(), e.at("value").get<std::string>(),
                                e.value("expand", true));
  return v;
}

Json model_vars_json(const Variables& vars) {
  Json a = Json::array();
  for (const auto& v : vars)
    a.push_back(Json{{"name", v.name}, {"value", v.value}, {"expand", v.expand}});
  return a;
}
Variables model_vars_from(const Json& a) {
  Variables out;
  for (const auto& e : a) {
    Variable v;
    v.name = e.at("name").get<std::string>();
    v.value = e.at("value").get<std::string>();
    v.expand = e.value("expand", true);
    out.push_back(std::move(v));
  }
  return out;
}

Json image_json(const Image& i) {
  Json j{{"name", i.name}};
  put_opt(j, "entrypoint", i.entrypoint);
  if (!i.pull_policy.empty()) j["pull_policy"] = i.pull_policy;
  put_opt(j, "platform", i.platform);
  put_opt(j, "user", i.user);
  return j;
}
Image image_from(const Json& j) {
  Image i;
  i.name = j.at("name").get<std::string>();
  get_opt(j, "entrypoint", i.entrypoint);
  i.pull_policy = j.value("pull_policy", std::vector<std::string>{});
  get_opt(j, "platform", i.platform);
  get_opt(j, "user", i.user);
  return i;
}

Json service_json(const Service& s) {
  Json j{{"name", s.name}};
  put_opt(j, "alias", s.alias);
  put_opt(j, "entrypoint", s.entrypoint);
  put_opt(j, "command", s.command);
  if (!s.variables.empty()) j["variables"] = model_vars_json(s.variables);
  if (!s.pull_policy.empty()) j["pull_policy"] = s.pull_policy;
  return j;
}
Service service_from(const Json& j) {
  Service s;
  s.name = j.at("name").get<std::string>();
  get_opt(j, "alias", s.alias);
  get_opt(j, "entrypoint", s.entrypoint);
  get_opt(j, "command", s.command);
  if (j.contains("variables")) s.variables = model_vars_from(j.at("variables"));
  s.pull_policy = j.value("pull_policy", std::vector<std::string>{});
  return s;
}

When when_from(const Json& j, const char* key, When fallback) {
  if (!j.contains(key)) return fallback;
  auto w = parse_when(j.at(key).get<std::string>());
  if (!w) throw std::invalid_argument(std::string("unknown '") + key + "' value");
  return *w;
}

Json artifacts_json(const Artifacts& a) {
  Json j{{"paths", a.paths}, {"exclude", a.exclude}, {"untracked", a.untracked},
         {"when", std::string(when_name(a.when))}};
  put_opt(j, "expire_in", a.expire_in);
  put_opt(j, "name", a.name);
  put_opt(j, "expose_as", a.expose_as);
  put_opt(j, "public", a.is_public);
  put_opt(j, "access", a.access);
  if (!a.reports.empty()) j["reports"] = a.reports;
  return j;
}
Artifacts artifacts_from(const Json& j) {
  Artifacts a;
  a.paths = j.value("paths", std::vector<std::string>{});
  a.exclude = j.value("exclude", std::vector<std::string>{});
  a.untracked = j.value("untracked", false);
  a.when = when_from(j, "when", When::kOnSuccess);
  get_opt(j, "expire_in", a.expire_in);
  get_opt(j, "name", a.name);
  get_opt(j, "expose_as", a.expose_as);
  get_opt(j, "public", a.is_public);
  get_opt(j, "access", a.access);
  a.reports = j.value("reports", std::vector<std::string>{});
  return a;
}

Json cache_json(const Cache& c) {
  Json j{{"paths", c.paths}, {"untracked", c.untracked}, {"unprotect", c.unprotect},
         {"policy", c.policy}, {"when", std::string(when_name(c.when))}};
  put_opt(j, "key", c.key);
  if (!c.key_files.empty()) j["key_files"] = c.key_files;
  put_opt(j, "key_prefix", c.key_prefix);
  if (!c.fallback_keys.empty()) j["fallback_keys"] = c.fallback_keys;
  return j;
}
Cache cache_from(const Json& j) {
  Cache c;
  c.paths = j.value("paths", std::vector<std::string>{});
  c.untracked = j.value("untracked", false);
  c.unprotect = j.value("unprotect", false);
  c.policy = j.value("policy", std::string("pull-push"));
  c.when = when_from(j, "when", When::kOnSuccess);
  get_opt(j, "key", c.key);
  c.key_files = j.value("key_files", std::vector<std::string>{});
  get_opt(j, "key_prefix", c.key_prefix);
  c.fallback_keys = j.value("fallback_keys", std::vector<std::string>{});
  return c;
}

Json environment_json(const Environment& e) {
  Json j{{"name", e.name}};
  put_opt(j, "url", e.url);
  put_opt(j, "action", e.action);
  put_opt(j, "on_stop", e.on_stop);
  put_opt(j, "auto_stop_in", e.auto_stop_in);
  put_opt(j, "deployment_tier", e.deployment_tier);
  return j;
}
Environment environment_from(const Json& j) {
  Environment e;
  e.name = j.at("name").get<std::string>();
  get_opt(j, "url", e.url);
  get_opt(j, "action", e.action);
  get_opt(j, "on_stop", e.on_stop);
  get_opt(j, "auto_stop_in", e.auto_stop_in);
  get_opt(j, "deployment_tier", e.deployment_tier);
  return e;
}

Json job_json(const PlannedJob& p) {
  Json j{{"name", p.name},
         {"job_name", p.job_name},
         {"stage", p.stage},
         {"when", std::string(when_name(p.when))},
         {"allow_failure", p.allow_failure},
         {"before_script", p.before_script},
         {"script", p.script},
         {"after_script", p.after_script},
         {"variables", vars_json(p.variables)},
         {"dependencies", p.dependencies},
         {"interruptible", p.interruptible},
         {"tags", p.tags},
         {"is_trigger", p.is_trigger},
         {"node_index", p.node_index},
         {"node_total", p.node_total},
         {"location", loc_json(p.loc)}};
  put_opt(j, "start_in", p.start_in);
  if (!p.allow_failure_exit_codes.empty())
    j["allow_failure_exit_codes"] = p.allow_failure_exit_codes;
  j["image"] = p.image ? image_json(*p.image) : Json(nullptr);
  j["services"] = Json::array();
  for (const auto& s : p.services) j["services"].push_back(service_json(s));
  if (p.needs) {
    j["needs"] = Json::array();
    for (const auto& n : *p.needs)
      j["needs"].push_back(Json{{"job", n.job}, {"artifacts", n.artifacts}});
  } else {
    j["needs"] = nullptr;
  }
  if (p.artifacts) j["artifacts"] = artifacts_json(*p.artifacts);
  j["cache"] = Json::array();
  for (const auto& c : p.cache) j["cache"].push_back(cache_json(c));
  put_opt(j, "timeout_seconds", p.timeout_seconds);
  if (p.retry) {
    j["retry"] =
        Json{{"max", p.retry->max}, {"when", p.retry->when}, {"exit_codes", p.retry->exit_codes}};
  }
  if (p.environment) j["environment"] = environment_json(*p.environment);
  put_opt(j, "resource_group", p.resource_group);
  put_opt(j, "coverage", p.coverage);
  if (!p.skipped_keywords.empty()) j["skipped_keywords"] = p.skipped_keywords;
  return j;
}

PlannedJob job_from(const Json& j) {
  PlannedJob p;
  p.name = j.at("name").get<std::string>();
  p.job_name = j.value("job_name", p.name);
  p.stage = j.at("stage").get<std::string>();
  p.when = when_from(j, "when", When::kOnSuccess);
  get_opt(j, "start_in", p.start_in);
  p.allow_failure = j.value("allow_failure", false);
  p.allow_failure_exit_codes = j.value("allow_failure_exit_codes", std::vector<int>{});
  if (j.contains("image") && !j.at("image").is_null()) p.image = image_from(j.at("image"));
  if (j.contains("services")) {
    for (const auto& s : j.at("services")) p.services.push_back(service_from(s));
  }
  p.before_script = j.value("before_script", std::vector<std::string>{});
  p.script = j.value("script", std::vector<std::string>{});
  p.after_script = j.value("after_script", std::vector<std::string>{});
  if (j.contains("variables")) p.variables = vars_from(j.at("variables"));
  if (j.contains("needs") && !j.at("needs").is_null()) {
    p.needs.emplace();
    for (const auto& n : j.at("needs")) {
      p.needs->push_back({n.at("job").get<std::string>(), n.value("artifacts", true)});
    }
  }
  p.dependencies = j.value("dependencies", std::vector<std::string>{});
  if (j.contains("artifacts")) p.artifacts = artifacts_from(j.at("artifacts"));
  if (j.contains("cache")) {
    for (const auto& c : j.at("cache")) p.cache.push_back(cache_from(c));
  }
  get_opt(j, "timeout_seconds", p.timeout_seconds);
  if (j.contains("retry")) {
    Retry r;
    r.max = j.at("retry").value("max", 0);
    r.when = j.at("retry").value("when", std::vector<std::string>{});
    r.exit_codes = j.at("retry").value("exit_codes", std::vector<int>{});
    p.retry = r;
  }
  p.interruptible = j.value("interruptible", false);
  p.tags = j.value("tags", std::vector<std::string>{});
  if (j.contains("environment")) p.environment = environment_from(j.at("environment"));
  get_opt(j, "resource_group", p.resource_group);
  get_opt(j, "coverage", p.coverage);
  p.skipped_keywords = j.value("skipped_keywords", std::vector<std::string>{});
  p.is_trigger = j.value("is_trigger", false);
  p.node_index = j.value("node_index", 0);
  p.node_total = j.value("node_total", 1);
  if (j.contains("location")) p.loc = loc_from(j.at("location"));
  return p;
}

}  // namespace

Json plan_to_json(const Plan& plan) {
  Json j{{"file", plan.file},
         {"created", plan.created},
         {"stages", plan.stages},
         {"variables", vars_json(plan.variables)}};
  if (!plan.created) j["stopped_reason"] = plan.stopped_reason;
  put_opt(j, "name", plan.name);
  j["jobs"] = Json::array();
  for (const auto& job : plan.jobs) j["jobs"].push_back(job_json(job));
  return j;
}

Json planned_job_to_json(const PlannedJob& job) { return job_json(job); }

Result<PlannedJob> planned_job_from_json(const Json& j) {
  try {
    if (!j.is_object()) return Error(ErrorCode::kInvalidArgument, "job: not a JSON object");
    return job_from(j);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInvalidArgument, std::string("job: ") + e.what());
  }
}

Result<Plan> plan_from_json(const Json& j) {
  Plan plan;
  size_t index = 0;
  try {
    if (!j.is_object()) return Error(ErrorCode::kInvalidArgument, "plan: not a JSON object");
    plan.file = j.value("file", "");
    plan.created = j.value("created", true);
    plan.stopped_reason = j.value("stopped_reason", "");
    get_opt(j, "name", plan.name);
    plan.stages = j.at("stages").get<std::vector<std::string>>();
    if (j.contains("variables")) plan.variables = vars_from(j.at("variables"));
    for (const auto& job : j.at("jobs")) {
      plan.jobs.push_back(job_from(job));
      ++index;
    }
  } catch (const std::exception& e) {
    std::string where = j.is_object() && j.contains("jobs") && index < j.at("jobs").size()
                            ? "plan: jobs[" + std::to_string(index) + "]: "
                            : "plan: ";
    return Error(ErrorCode::kInvalidArgument, where + e.what());
  }
  return plan;
}

}  // namespace gantry::schema
