#include "pipeline-schema/keywords/values.h"

#include <algorithm>

#include "pipeline-schema/keywords/keyword_table.h"

namespace gantry::schema::keywords {

namespace {

// GitLab's limits (CI/CD YAML reference).
constexpr int kMaxCaches = 4;
constexpr int kMaxParallel = 200;
constexpr int kMaxNeeds = 50;
constexpr int kMaxFallbackKeys = 5;
constexpr std::int64_t kOneWeek = 7 * 24 * 3600;

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::vector<std::string> read_pull_policy(Reader& r, const Node& n, std::string_view path) {
  std::vector<std::string> out;
  auto check = [&](const Node& item) {
    if (auto s = r.one_of(item, path, {"always", "if-not-present", "never"})) out.push_back(*s);
  };
  if (n.is_sequence()) {
    for (const auto& item : n.items()) check(item);
  } else {
    check(n);
  }
  return out;
}

// Items of a list that may hold nested lists from `!reference` (GitLab flattens rules and
// similar lists one level per reference).
void flatten_items(const Node& n, std::vector<const Node*>& out) {
  for (const auto& item : n.items()) {
    if (item.is_sequence()) flatten_items(item, out);
    else out.push_back(&item);
  }
}

std::optional<MatrixEntry> read_matrix_entry(Reader& r, const Node& n, std::string_view path,
                                             std::int64_t* combinations) {
  if (!n.is_map()) {
    r.type_error(n, path, "a map of variable names to values");
    return std::nullopt;
  }
  MatrixEntry entry;
  std::int64_t product = 1;
  bool ok = true;
  for (const auto& e : n.entries()) {
    std::vector<std::string> values;
    std::string vpath = key_path(path, e.key);
    if (e.value.is_sequence()) {
      for (const auto& item : e.value.items()) {
        if (auto s = r.variable_value(item, vpath)) values.push_back(*s);
        else ok = false;
      }
      if (values.empty() && ok) {
        r.error(e.value.loc(), quote(vpath) + " must list at least one value");
        ok = false;
      }
    } else if (auto s = r.variable_value(e.value, vpath)) {
      values.push_back(*s);
    } else {
      ok = false;
    }
    product *= std::max<std::int64_t>(1, static_cast<std::int64_t>(values.size()));
    entry.emplace_back(e.key, std::move(values));
  }
  if (n.entries().empty()) {
    r.error(n.loc(), quote(path) + " entry must set at least one variable");
    ok = false;
  }
  if (!ok) return std::nullopt;
  *combinations += product;
  return entry;
}

std::optional<std::vector<MatrixEntry>> read_matrix(Reader& r, const Node& n,
                                                    std::string_view path) {
  if (!n.is_sequence()) {
    r.type_error(n, path, "a list of maps");
    return std::nullopt;
  }
  std::vector<MatrixEntry> out;
  std::int64_t combinations = 0;
  bool ok = true;
  for (const auto& item : n.items()) {
    if (auto e = read_matrix_entry(r, item, path, &combinations)) out.push_back(std::move(*e));
    else ok = false;
  }
  if (ok && combinations > kMaxParallel) {
    r.error(n.loc(), quote(path) + " makes " + std::to_string(combinations) +
                         " jobs; GitLab allows at most " + std::to_string(kMaxParallel));
    ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<Need> read_need(Reader& r, const Node& n, std::string_view path,
                              std::vector<SkippedKeyword>* skipped) {
  Need need;
  need.loc = n.loc();
  if (n.is_scalar() && n.scalar_type() == ScalarType::kString) {
    need.job = n.text();
    return need;
  }
  if (!n.is_map()) {
    r.type_error(n, path, "a job name or a map with 'job'");
    return std::nullopt;
  }
  if (!r.check_keys(n, "needs", path)) return std::nullopt;
  const Node* job = r.required(n, path, "job");
  if (job == nullptr) return std::nullopt;
  auto name = r.string(*job, key_path(path, "job"));
  if (!name) return std::nullopt;
  need.job = *name;
  need.loc = job->loc();
  if (const Node* a = n.get("artifacts"))
    need.artifacts = r.boolean(*a, key_path(path, "artifacts")).value_or(true);
  if (const Node* o = n.get("optional"))
    need.optional = r.boolean(*o, key_path(path, "optional")).value_or(false);
  for (const char* cross : {"pipeline", "project"}) {
    if (const Node* c = n.find(cross)) {
      auto v = r.string(*c, key_path(path, cross));
      (std::string_view(cross) == "pipeline" ? need.pipeline : need.project) = v;
      r.warning(n.find_entry(cross)->key_loc,
                quote(key_path(path, cross)) + " (artifacts from another pipeline) is not "
                                               "executed by gantry; it is ignored");
      if (skipped != nullptr)
        skipped->push_back({key_path(path, cross), n.find_entry(cross)->key_loc});
    }
  }
  if (const Node* ref = n.get("ref")) need.ref = r.string(*ref, key_path(path, "ref"));
  if (const Node* p = n.get("parallel")) {
    std::string ppath = key_path(path, "parallel");
    if (r.check_keys(*p, "parallel", ppath)) {
      if (const Node* m = r.required(*p, ppath, "matrix")) {
        if (auto mx = read_matrix(r, *m, key_path(ppath, "matrix"))) need.matrix = std::move(*mx);
      }
    }
  }
  return need;
}

}  // namespace

std::optional<Image> read_image(Reader& r, const Node& n, std::string_view path) {
  Image img;
  img.loc = n.loc();
  if (n.is_scalar() && n.scalar_type() == ScalarType::kString) {
    img.name = n.text();
    return img;
  }
  if (!n.is_map()) {
    r.type_error(n, path, "a string or a map with 'name'");
    return std::nullopt;
  }
  r.check_keys(n, "image", path);
  const Node* name = r.required(n, path, "name");
  if (name == nullptr) return std::nullopt;
  auto s = r.string(*name, key_path(path, "name"));
  if (!s) return std::nullopt;
  img.name = *s;
  if (const Node* ep = n.get("entrypoint"))
    img.entrypoint = r.string_list(*ep, key_path(path, "entrypoint"));
  if (const Node* pp = n.get("pull_policy"))
    img.pull_policy = read_pull_policy(r, *pp, key_path(path, "pull_policy"));
  if (const Node* d = n.get("docker")) {
    std::string dpath = key_path(path, "docker");
    if (r.check_keys(*d, "image:docker", dpath)) {
      if (const Node* p = d->get("platform"))
        img.platform = r.string(*p, key_path(dpath, "platform"));
      if (const Node* u = d->get("user")) img.user = r.string(*u, key_path(dpath, "user"));
    }
  }
  return img;
}

std::optional<std::vector<Service>> read_services(Reader& r, const Node& n, std::string_view path) {
  if (!n.is_sequence()) {
    r.type_error(n, path, "a list of images");
    return std::nullopt;
  }
  std::vector<Service> out;
  std::vector<const Node*> items;
  flatten_items(n, items);
  for (const Node* item : items) {
    Service svc;
    svc.loc = item->loc();
    if (item->is_scalar() && item->scalar_type() == ScalarType::kString) {
      svc.name = item->text();
      out.push_back(std::move(svc));
      continue;
    }
    if (!item->is_map()) {
      r.type_error(*item, path, "a list of image names or maps with 'name'");
      continue;
    }
    r.check_keys(*item, "services", path);
    const Node* name = r.required(*item, path, "name");
    if (name == nullptr) continue;
    auto s = r.string(*name, key_path(path, "name"));
    if (!s) continue;
    svc.name = *s;
    if (const Node* a = item->get("alias")) svc.alias = r.string(*a, key_path(path, "alias"));
    if (const Node* e = item->get("entrypoint"))
      svc.entrypoint = r.string_list(*e, key_path(path, "entrypoint"));
    if (const Node* c = item->get("command"))
      svc.command = r.string_list(*c, key_path(path, "command"));
    if (const Node* v = item->get("variables"))
      svc.variables = r.variables(*v, key_path(path, "variables"), false);
    if (const Node* pp = item->get("pull_policy"))
      svc.pull_policy = read_pull_policy(r, *pp, key_path(path, "pull_policy"));
    if (const Node* d = item->get("docker"))
      r.check_keys(*d, "image:docker", key_path(path, "docker"));
    out.push_back(std::move(svc));
  }
  return out;
}

std::optional<Artifacts> read_artifacts(Reader& r, const Node& n, std::string_view path,
                                        std::vector<SkippedKeyword>* skipped) {
  if (!r.check_keys(n, "artifacts", path, skipped)) return std::nullopt;
  Artifacts a;
  a.loc = n.loc();
  if (const Node* p = n.get("paths"))
    a.paths = r.string_list(*p, key_path(path, "paths")).value_or(std::vector<std::string>{});
  if (const Node* p = n.get("exclude"))
    a.exclude = r.string_list(*p, key_path(path, "exclude")).value_or(std::vector<std::string>{});
  if (const Node* p = n.get("untracked"))
    a.untracked = r.boolean(*p, key_path(path, "untracked")).value_or(false);
  if (const Node* p = n.get("when")) {
    if (auto w = r.one_of(*p, key_path(path, "when"), {"on_success", "on_failure", "always"})) {
      a.when = *parse_when(*w);
    }
  }
  if (const Node* p = n.get("expire_in"))
    a.expire_in = r.duration(*p, key_path(path, "expire_in"), true);
  if (const Node* p = n.get("name")) a.name = r.string(*p, key_path(path, "name"));
  if (const Node* p = n.get("expose_as")) a.expose_as = r.string(*p, key_path(path, "expose_as"));
  if (const Node* p = n.get("public")) a.is_public = r.boolean(*p, key_path(path, "public"));
  if (const Node* p = n.get("access"))
    a.access = r.one_of(*p, key_path(path, "access"), {"all", "developer", "maintainer", "none"});
  if (const Node* p = n.get("reports")) {
    if (p->is_map()) {
      for (const auto& e : p->entries()) a.reports.push_back(e.key);
    } else {
      r.type_error(*p, key_path(path, "reports"), "a map");
    }
  }
  return a;
}

std::optional<std::vector<Cache>> read_cache(Reader& r, const Node& n, std::string_view path) {
  std::vector<const Node*> items;
  if (n.is_sequence()) {
    flatten_items(n, items);
    if (items.size() > static_cast<std::size_t>(kMaxCaches)) {
      r.error(n.loc(), quote(path) + " lists " + std::to_string(items.size()) +
                           " caches; GitLab allows at most " + std::to_string(kMaxCaches));
      return std::nullopt;
    }
  } else {
    items.push_back(&n);
  }
  std::vector<Cache> out;
  for (const Node* item : items) {
    if (!r.check_keys(*item, "cache", path)) continue;
    Cache c;
    c.loc = item->loc();
    if (const Node* k = item->get("key")) {
      std::string kpath = key_path(path, "key");
      if (k->is_map()) {
        if (r.check_keys(*k, "cache:key", kpath)) {
          if (const Node* f = r.required(*k, kpath, "files")) {
            auto files = r.string_list(*f, key_path(kpath, "files"));
            if (files && (files->empty() || files->size() > 2)) {
              r.error(f->loc(), quote(key_path(kpath, "files")) + " must list one or two files");
            } else if (files) {
              c.key_files = std::move(*files);
            }
          }
          if (const Node* p = k->get("prefix"))
            c.key_prefix = r.string(*p, key_path(kpath, "prefix"));
        }
      } else if (auto s = r.string_or_number(*k, kpath)) {
        if (s->find('/') != std::string::npos || *s == "." || *s == "..") {
          r.error(k->loc(), quote(kpath) + " must not contain '/' or be '.' or '..'");
        } else {
          c.key = *s;
        }
      }
    }
    if (const Node* p = item->get("paths"))
      c.paths = r.string_list(*p, key_path(path, "paths")).value_or(std::vector<std::string>{});
    if (const Node* p = item->get("untracked"))
      c.untracked = r.boolean(*p, key_path(path, "untracked")).value_or(false);
    if (const Node* p = item->get("unprotect"))
      c.unprotect = r.boolean(*p, key_path(path, "unprotect")).value_or(false);
    if (const Node* p = item->get("when")) {
      if (auto w = r.one_of(*p, key_path(path, "when"), {"on_success", "on_failure", "always"}))
        c.when = *parse_when(*w);
    }
    if (const Node* p = item->get("policy")) {
      // GitLab also takes a CI/CD variable here, expanded when the job runs.
      if (p->is_string() && !p->text().empty() && p->text()[0] == '$') {
        c.policy = p->text();
      } else if (auto s = r.one_of(*p, key_path(path, "policy"), {"pull", "push", "pull-push"})) {
        c.policy = *s;
      }
    }
    if (const Node* p = item->get("fallback_keys")) {
      if (auto keys = r.string_list(*p, key_path(path, "fallback_keys"))) {
        if (keys->size() > static_cast<std::size_t>(kMaxFallbackKeys)) {
          r.error(p->loc(), quote(key_path(path, "fallback_keys")) + " allows at most " +
                                std::to_string(kMaxFallbackKeys) + " keys");
        } else {
          c.fallback_keys = std::move(*keys);
        }
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::optional<Retry> read_retry(Reader& r, const Node& n, std::string_view path) {
  Retry retry;
  retry.loc = n.loc();
  if (n.is_scalar()) {
    auto v = r.integer(n, path, 0, 2);
    if (!v) return std::nullopt;
    retry.max = static_cast<int>(*v);
    return retry;
  }
  if (!r.check_keys(n, "retry", path)) return std::nullopt;
  if (const Node* m = n.get("max"))
    retry.max = static_cast<int>(r.integer(*m, key_path(path, "max"), 0, 2).value_or(0));
  if (const Node* w = n.get("when")) {
    std::vector<const Node*> items;
    if (w->is_sequence()) {
      for (const auto& i : w->items()) items.push_back(&i);
    } else {
      items.push_back(w);
    }
    for (const Node* i : items) {
      if (auto s = r.one_of(*i, key_path(path, "when"),
                            {"always", "unknown_failure", "script_failure", "api_failure",
                             "stuck_or_timeout_failure", "runner_system_failure",
                             "runner_unsupported", "stale_schedule", "job_execution_timeout",
                             "archived_failure", "unmet_prerequisites", "scheduler_failure",
                             "data_integrity_failure"})) {
        retry.when.push_back(*s);
      }
    }
  }
  if (const Node* e = n.get("exit_codes"))
    retry.exit_codes = r.int_list(*e, key_path(path, "exit_codes")).value_or(std::vector<int>{});
  return retry;
}

std::optional<AllowFailure> read_allow_failure(Reader& r, const Node& n, std::string_view path) {
  AllowFailure af;
  af.loc = n.loc();
  if (n.is_map()) {
    if (!r.check_keys(n, "allow_failure", path)) return std::nullopt;
    const Node* codes = r.required(n, path, "exit_codes");
    if (codes == nullptr) return std::nullopt;
    auto list = r.int_list(*codes, key_path(path, "exit_codes"));
    if (!list) return std::nullopt;
    af.exit_codes = std::move(*list);
    return af;
  }
  auto b = n.as_bool();
  if (!b) {
    r.type_error(n, path, "true, false or a map with 'exit_codes'");
    return std::nullopt;
  }
  af.allowed = *b;
  return af;
}

std::optional<Environment> read_environment(Reader& r, const Node& n, std::string_view path,
                                            std::vector<SkippedKeyword>* skipped) {
  Environment env;
  env.loc = n.loc();
  if (n.is_scalar() && n.scalar_type() == ScalarType::kString) {
    env.name = n.text();
    return env;
  }
  if (!n.is_map()) {
    r.type_error(n, path, "a string or a map with 'name'");
    return std::nullopt;
  }
  r.check_keys(n, "environment", path, skipped);
  const Node* name = r.required(n, path, "name");
  if (name == nullptr) return std::nullopt;
  auto s = r.string(*name, key_path(path, "name"));
  if (!s) return std::nullopt;
  env.name = *s;
  if (const Node* p = n.get("url")) env.url = r.string(*p, key_path(path, "url"));
  if (const Node* p = n.get("on_stop")) env.on_stop = r.string(*p, key_path(path, "on_stop"));
  if (const Node* p = n.get("action"))
    env.action =
        r.one_of(*p, key_path(path, "action"), {"start", "prepare", "stop", "verify", "access"});
  if (const Node* p = n.get("auto_stop_in"))
    env.auto_stop_in = r.duration(*p, key_path(path, "auto_stop_in"), true);
  if (const Node* p = n.get("deployment_tier")) {
    env.deployment_tier = r.one_of(*p, key_path(path, "deployment_tier"),
                                   {"production", "staging", "testing", "development", "other"});
  }
  return env;
}

std::optional<Inherit> read_inherit(Reader& r, const Node& n, std::string_view path) {
  if (!r.check_keys(n, "inherit", path)) return std::nullopt;
  Inherit inh;
  if (const Node* d = n.get("default")) {
    std::string dpath = key_path(path, "default");
    if (auto b = d->as_bool()) {
      inh.all_default = *b;
    } else if (auto list = r.located_list(*d, dpath)) {
      inh.all_default = false;
      for (const auto& k : *list) {
        if (find_keyword("default", k.value) == nullptr) {
          std::string msg =
              quote(dpath) + " names " + quote(k.value) + ", which is not a 'default' keyword";
          if (auto s = did_you_mean(k.value, keywords_for("default")))
            msg += " (did you mean " + quote(*s) + "?)";
          r.error(k.loc, msg);
        } else {
          inh.default_keys.push_back(k.value);
        }
      }
    }
  }
  if (const Node* v = n.get("variables")) {
    std::string vpath = key_path(path, "variables");
    if (auto b = v->as_bool()) {
      inh.all_variables = *b;
    } else if (auto list = r.string_list(*v, vpath)) {
      inh.all_variables = false;
      inh.variable_names = std::move(*list);
    }
  }
  return inh;
}

std::optional<Parallel> read_parallel(Reader& r, const Node& n, std::string_view path) {
  Parallel p;
  p.loc = n.loc();
  if (n.is_scalar()) {
    auto v = r.integer(n, path, 1, kMaxParallel);
    if (!v) return std::nullopt;
    p.count = static_cast<int>(*v);
    return p;
  }
  if (!n.is_map()) {
    r.type_error(n, path, "an integer or a map with 'matrix'");
    return std::nullopt;
  }
  if (!r.check_keys(n, "parallel", path)) return std::nullopt;
  const Node* m = r.required(n, path, "matrix");
  if (m == nullptr) return std::nullopt;
  auto mx = read_matrix(r, *m, key_path(path, "matrix"));
  if (!mx) return std::nullopt;
  p.matrix = std::move(*mx);
  return p;
}

std::optional<std::vector<Need>> read_needs(Reader& r, const Node& n, std::string_view path,
                                            std::vector<SkippedKeyword>* skipped) {
  if (!n.is_sequence()) {
    r.type_error(n, path, "a list of job names");
    return std::nullopt;
  }
  std::vector<const Node*> items;
  flatten_items(n, items);
  if (items.size() > static_cast<std::size_t>(kMaxNeeds)) {
    r.error(n.loc(), quote(path) + " lists " + std::to_string(items.size()) +
                         " jobs; GitLab allows at most " + std::to_string(kMaxNeeds));
  }
  std::vector<Need> out;
  for (const Node* item : items) {
    if (auto need = read_need(r, *item, path, skipped)) out.push_back(std::move(*need));
  }
  return out;
}

namespace {

// `changes:` and `exists:` take a list of paths, or a map (keys of `keyword`) whose required
// `paths` is that list; the map's other keys are the caller's to read.
std::optional<std::vector<std::string>> read_rule_paths(Reader& r, const Node& n,
                                                        std::string_view path,
                                                        std::string_view keyword) {
  if (!n.is_map()) return r.string_list(n, path);
  if (!r.check_keys(n, keyword, path)) return std::nullopt;
  const Node* p = r.required(n, path, "paths");
  if (p == nullptr) return std::nullopt;
  return r.string_list(*p, key_path(path, "paths"));
}

}  // namespace

std::optional<Changes> read_changes(Reader& r, const Node& n, std::string_view path) {
  auto paths = read_rule_paths(r, n, path, "changes");
  if (!paths) return std::nullopt;
  Changes c;
  c.loc = n.loc();
  c.paths = std::move(*paths);
  if (const Node* cmp = n.is_map() ? n.get("compare_to") : nullptr) {
    c.compare_to = r.string(*cmp, key_path(path, "compare_to"));
  }
  return c;
}

std::optional<Exists> read_exists(Reader& r, const Node& n, std::string_view path) {
  auto paths = read_rule_paths(r, n, path, "exists");
  if (!paths) return std::nullopt;
  Exists x;
  x.loc = n.loc();
  x.paths = std::move(*paths);
  if (n.is_map()) {
    if (const Node* v = n.get("project")) x.project = r.string(*v, key_path(path, "project"));
    if (const Node* v = n.get("ref")) x.ref = r.string(*v, key_path(path, "ref"));
  }
  return x;
}

std::optional<std::vector<Rule>> read_rules(Reader& r, const Node& n, std::string_view path,
                                            bool workflow) {
  if (!n.is_sequence()) {
    r.type_error(n, path, "a list of rules");
    return std::nullopt;
  }
  std::vector<const Node*> items;
  flatten_items(n, items);
  std::vector<Rule> out;
  bool ok = true;
  for (const Node* item : items) {
    if (!r.check_keys(*item, workflow ? "workflow:rules" : "rules", path)) {
      ok = false;
      continue;
    }
    Rule rule;
    rule.loc = item->loc();
    if (const Node* i = item->get("if")) {
      if (auto s = r.string(*i, key_path(path, "if"))) {
        rule.if_expr = LocatedString{*s, i->loc(), i->style() == ScalarStyle::kQuoted};
      }
    }
    if (const Node* c = item->get("changes"))
      rule.changes = read_changes(r, *c, key_path(path, "changes"));
    if (const Node* e = item->get("exists"))
      rule.exists = read_exists(r, *e, key_path(path, "exists"));
    if (const Node* w = item->get("when")) {
      std::optional<std::string> s =
          workflow ? r.one_of(*w, key_path(path, "when"), {"always", "never"})
                   : r.one_of(*w, key_path(path, "when"),
                              {"on_success", "on_failure", "always", "manual", "delayed", "never"});
      if (s) rule.when = parse_when(*s);
      rule.when_loc = w->loc();
    }
    if (const Node* s = item->get("start_in")) {
      std::int64_t secs = 0;
      rule.start_in = r.duration(*s, key_path(path, "start_in"), false, &secs);
      if (rule.start_in && secs > kOneWeek) {
        r.error(s->loc(), quote(key_path(path, "start_in")) + " must be one week or less");
      }
    }
    if (rule.start_in && rule.when != When::kDelayed) {
      r.error(item->find_entry("start_in")->key_loc,
              quote(key_path(path, "start_in")) + " is only valid with 'when: delayed'");
    }
    if (item->entries().empty()) {
      r.error(item->loc(), "a rule in " + quote(path) +
                               " must not be empty; give it 'if', 'changes', 'exists' or 'when'");
    }
    if (rule.when == When::kDelayed && !rule.start_in) {
      r.error(rule.when_loc,
              quote(key_path(path, "when")) + " is 'delayed' but 'start_in' is missing");
    }
    if (const Node* a = item->get("allow_failure")) {
      if (auto b = r.boolean(*a, key_path(path, "allow_failure"))) {
        rule.allow_failure = AllowFailure{*b, {}, a->loc()};
      }
    }
    if (const Node* v = item->get("variables"))
      rule.variables = r.variables(*v, key_path(path, "variables"), false);
    if (const Node* nd = item->get("needs"))
      rule.needs = read_needs(r, *nd, key_path(path, "needs"), nullptr);
    if (const Node* i = item->get("interruptible"))
      rule.interruptible = r.boolean(*i, key_path(path, "interruptible"));
    out.push_back(std::move(rule));
  }
  if (!ok && out.empty()) return std::nullopt;
  return out;
}

std::optional<RefFilter> read_ref_filter(Reader& r, const Node& n, std::string_view path) {
  RefFilter f;
  f.loc = n.loc();
  if (n.is_sequence()) {
    auto refs = r.located_list(n, path);
    if (!refs) return std::nullopt;
    f.refs = std::move(*refs);
    return f;
  }
  if (!n.is_map()) {
    r.type_error(n, path, "a list of refs or a map");
    return std::nullopt;
  }
  if (!r.check_keys(n, "only", path)) return std::nullopt;
  if (const Node* p = n.get("refs"))
    f.refs = r.located_list(*p, key_path(path, "refs")).value_or(std::vector<LocatedString>{});
  if (const Node* p = n.get("variables"))
    f.variables =
        r.located_list(*p, key_path(path, "variables")).value_or(std::vector<LocatedString>{});
  if (const Node* p = n.get("changes")) f.changes = read_changes(r, *p, key_path(path, "changes"));
  if (const Node* p = n.get("kubernetes"))
    f.kubernetes = r.one_of(*p, key_path(path, "kubernetes"), {"active"});
  return f;
}

}  // namespace gantry::schema::keywords
