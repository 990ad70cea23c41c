#include "pipeline-schema/build.h"

#include <algorithm>
#include <set>

#include "pipeline-schema/duration.h"
#include "pipeline-schema/extends.h"
#include "pipeline-schema/keywords/keyword_table.h"
#include "pipeline-schema/keywords/reader.h"
#include "pipeline-schema/keywords/values.h"

namespace gantry::schema {

namespace {

using keywords::key_path;
using keywords::Reader;

constexpr std::int64_t kOneWeek = 7 * 24 * 3600;
constexpr std::size_t kMaxJobNameLength = 255;

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// The keywords `default:` may set, read once for the pipeline. `present` says which ones were
// written, so a job inherits exactly those (a written empty list still counts).
struct DefaultValues {
  Defaults values;
  std::set<std::string> present;
};

void read_default_keyword(Reader& r, const MapEntry& e, DefaultValues& d) {
  const Node& v = e.value;
  const std::string& k = e.key;
  Defaults& out = d.values;
  bool ok = true;
  if (k == "image") {
    out.image = keywords::read_image(r, v, k);
    ok = out.image.has_value();
  } else if (k == "services") {
    auto s = keywords::read_services(r, v, k);
    ok = s.has_value();
    if (s) out.services = std::move(*s);
  } else if (k == "before_script") {
    out.before_script = r.script(v, k);
    ok = out.before_script.has_value();
  } else if (k == "after_script") {
    out.after_script = r.script(v, k);
    ok = out.after_script.has_value();
  } else if (k == "artifacts") {
    out.artifacts = keywords::read_artifacts(r, v, k, nullptr);
    ok = out.artifacts.has_value();
  } else if (k == "cache") {
    auto c = keywords::read_cache(r, v, k);
    ok = c.has_value();
    if (c) out.cache = std::move(*c);
  } else if (k == "timeout") {
    out.timeout = r.duration(v, k);
    ok = out.timeout.has_value();
  } else if (k == "retry") {
    out.retry = keywords::read_retry(r, v, k);
    ok = out.retry.has_value();
  } else if (k == "interruptible") {
    out.interruptible = r.boolean(v, k);
    ok = out.interruptible.has_value();
  } else if (k == "tags") {
    auto t = r.string_list(v, k);
    ok = t.has_value();
    if (t) out.tags = std::move(*t);
  } else {
    return;  // hooks, id_tokens: accepted, not executed (warned by check_keys)
  }
  if (ok) d.present.insert(k);
}

class Builder {
 public:
  Builder(const Node& root, const std::string& file, Diagnostics& diags)
      : root_(root), diags_(diags) {
    p_.file = file;
  }

  Pipeline run() {
    if (root_.is_null()) {
      diags_.error(root_.loc(), "the pipeline file is empty; it needs at least one job");
      return std::move(p_);
    }
    if (!root_.is_map()) {
      diags_.error(root_.loc(), "the pipeline must be a map of keywords and jobs, not " +
                                    root_.type_name());
      return std::move(p_);
    }
    read_globals();
    for (const auto& e : root_.entries()) {
      if (is_global_keyword(e.key)) continue;
      read_job_entry(e);
    }
    if (p_.jobs.empty() && !diags_.has_errors()) {
      diags_.error(root_.loc(), "the pipeline has no visible jobs (jobs whose name does not "
                                "start with '.'); it needs at least one");
    }
    return std::move(p_);
  }

 private:
  void read_globals() {
    Reader r(diags_, "");
    // The deprecated top-level image/services/cache/before_script/after_script act as
    // `default:` values (GitLab still honours them); `default:` wins when both are set.
    const Node* dflt = root_.get("default");
    for (const auto& e : root_.entries()) {
      if (e.key == "stages") {
        read_stages(r, e);
      } else if (e.key == "types") {
        // GitLab's old name for `stages`, still found in old pipelines.
        if (root_.has_value("stages")) {
          diags_.warning(e.key_loc, "'types' is a deprecated name for 'stages' and is ignored "
                                    "because 'stages' is set");
        } else {
          diags_.warning(e.key_loc, "'types' is a deprecated name for 'stages'; use 'stages'");
          read_stages(r, e);
        }
      } else if (e.key == "variables") {
        p_.variables = r.variables(e.value, "variables", true);
      } else if (e.key == "workflow") {
        read_workflow(r, e.value);
      } else if (e.key == "default") {
        Reader dr(diags_, "");
        if (e.value.is_null()) continue;
        if (!dr.check_keys(e.value, "default", "default")) continue;
        Reader inner(diags_, "'default'");
        for (const auto& de : e.value.entries()) read_default_keyword(inner, de, defaults_);
        defaults_.values.loc = e.value.loc();
      } else if (e.key == "spec") {
        diags_.warning(e.key_loc, "'spec' (spec:inputs) is not supported by gantry; it is ignored");
      } else if (is_global_keyword(e.key)) {
        if (dflt != nullptr && dflt->is_map() && dflt->has(e.key)) continue;
        read_default_keyword(r, e, defaults_);
      }
    }
    p_.defaults = defaults_.values;
    if (!p_.stages_declared) {
      for (const char* s : {"build", "test", "deploy"}) {
        p_.stages.push_back({s, root_.loc(), false});
      }
    }
    // GitLab adds .pre and .post around the declared stages when they are not listed.
    if (!p_.has_stage(".pre")) p_.stages.insert(p_.stages.begin(), {".pre", root_.loc(), false});
    if (!p_.has_stage(".post")) p_.stages.push_back({".post", root_.loc(), false});
  }

  void read_stages(Reader& r, const MapEntry& e) {
    if (e.value.is_null()) return;  // `stages:` with no value: GitLab's default stages
    p_.stages_declared = true;
    auto list = r.located_list(e.value, "stages");
    if (!list) return;
    for (auto& s : *list) {
      if (p_.has_stage(s.value)) {
        diags_.warning(s.loc, "stage " + quote(s.value) + " is listed twice in 'stages'");
        continue;
      }
      p_.stages.push_back(std::move(s));
    }
  }

  void read_workflow(Reader& r, const Node& n) {
    p_.workflow.loc = n.loc();
    if (n.is_null()) return;
    if (!r.check_keys(n, "workflow", "workflow")) return;
    if (const Node* name = n.get("name")) p_.workflow.name = r.string(*name, "workflow:name");
    if (const Node* rules = n.get("rules")) {
      p_.workflow.rules = keywords::read_rules(r, *rules, "workflow:rules", true);
    }
    if (const Node* ac = n.get("auto_cancel"))
      r.check_keys(*ac, "workflow:auto_cancel", "workflow:auto_cancel");
  }

  void read_job_entry(const MapEntry& e) {
    bool hidden = !e.key.empty() && e.key[0] == '.';
    if (hidden) {
      p_.hidden_jobs.push_back(e.key);
      return;  // templates are not validated, as in GitLab: they may hold any YAML
    }
    auto suggestion = keywords::did_you_mean(e.key, keywords::keywords_for("global"));
    bool job_like =
        e.value.is_map() &&
        (e.value.has_value("script") || e.value.has_value("trigger") || e.value.has_value("run") ||
         e.value.has_value("stage") || e.value.has_value("extends"));
    if (suggestion && !job_like) {
      diags_.error(e.key_loc, "unknown keyword " + quote(e.key) + " (did you mean " +
                                  quote(*suggestion) + "?)");
      return;
    }
    if (!e.value.is_map()) {
      diags_.error(e.key_loc, job_owner(e.key) + " must be a map of keywords, not " +
                                  e.value.type_name());
      return;
    }
    if (e.key.empty() || e.key.size() > kMaxJobNameLength) {
      diags_.error(e.key_loc, "a job name must be 1 to " + std::to_string(kMaxJobNameLength) +
                                  " characters long");
      return;
    }
    p_.jobs.push_back(read_job(e));
  }

  Job read_job(const MapEntry& e) {
    const Node& n = e.value;
    Job job;
    job.name = e.key;
    job.loc = e.key_loc;
    job.stage_loc = e.key_loc;
    Reader r(diags_, job_owner(e.key));
    r.check_keys(n, "job", "", &job.skipped);

    if (const Node* v = n.get("inherit")) {
      if (auto inh = keywords::read_inherit(r, *v, "inherit")) job.inherit = std::move(*inh);
    }
    if (const MapEntry* t = n.find_entry("type")) {
      r.warning(t->key_loc, "'type' is a deprecated name for 'stage'; use 'stage'");
    }
    if (const Node* v = n.has_value("stage") ? n.get("stage") : n.get("type")) {
      if (auto s = r.string(*v, n.has_value("stage") ? "stage" : "type")) {
        job.stage = *s;
        job.stage_loc = v->loc();
      }
    }
    if (const Node* v = n.get("image")) job.image = keywords::read_image(r, *v, "image");
    if (const Node* v = n.get("services")) {
      if (auto s = keywords::read_services(r, *v, "services")) job.services = std::move(*s);
    }
    if (const Node* v = n.get("before_script")) job.before_script = r.script(*v, "before_script");
    if (const Node* v = n.get("script")) {
      // A wrong-typed script is reported here; keep an empty one so validation does not also
      // say the job has none.
      job.script = r.script(*v, "script").value_or(Script{{}, v->loc()});
    }
    if (const Node* v = n.get("after_script")) job.after_script = r.script(*v, "after_script");
    if (const Node* v = n.get("variables")) job.variables = r.variables(*v, "variables", false);
    read_flow(r, n, job);
    if (const Node* v = n.get("artifacts"))
      job.artifacts = keywords::read_artifacts(r, *v, "artifacts", &job.skipped);
    if (const Node* v = n.get("cache")) {
      if (auto c = keywords::read_cache(r, *v, "cache")) job.cache = std::move(*c);
    }
    if (const Node* v = n.get("timeout")) {
      std::int64_t secs = 0;
      job.timeout = r.duration(*v, "timeout", false, &secs);
      if (job.timeout) job.timeout_seconds = secs;
    }
    if (const Node* v = n.get("retry")) job.retry = keywords::read_retry(r, *v, "retry");
    if (const Node* v = n.get("interruptible")) job.interruptible = r.boolean(*v, "interruptible");
    if (const Node* v = n.get("tags")) {
      if (auto t = r.string_list(*v, "tags")) job.tags = std::move(*t);
    }
    if (const Node* v = n.get("environment"))
      job.environment = keywords::read_environment(r, *v, "environment", &job.skipped);
    if (const Node* v = n.get("resource_group"))
      job.resource_group = r.string(*v, "resource_group");
    if (const Node* v = n.get("coverage")) {
      if (auto s = r.string(*v, "coverage")) {
        if (s->size() < 2 || s->front() != '/' || s->back() != '/') {
          r.error(v->loc(),
                  "'coverage' must be a regular expression between slashes, such as '/Total: "
                  "(\\d+)%/'");
        } else {
          job.coverage = *s;
        }
      }
    }
    job.is_trigger = n.has_value("trigger");
    // GitLab reads a job with `script` as a normal job, where `trigger` is not a keyword.
    if (job.is_trigger && n.has_value("script")) {
      r.error(n.find_entry("trigger")->key_loc,
              "'trigger' cannot be used together with 'script' (a trigger job starts a "
              "downstream pipeline instead of running commands)");
    }
    if (const Node* t = n.get("trigger")) {
      if (t->is_map()) r.check_keys(*t, "trigger", "trigger");
      else if (!t->is_string()) r.type_error(*t, "trigger", "a project path or a map");
    }
    apply_defaults(n, job);
    return job;
  }

  // when, start_in, allow_failure, rules, only/except, needs, dependencies, parallel.
  void read_flow(Reader& r, const Node& n, Job& job) {
    if (const Node* v = n.get("when")) {
      if (auto s =
              r.one_of(*v, "when", {"on_success", "on_failure", "always", "manual", "delayed"})) {
        job.when = *parse_when(*s);
        job.when_set = true;
      }
      job.when_loc = v->loc();
    }
    if (const Node* v = n.get("start_in")) {
      std::int64_t secs = 0;
      job.start_in = r.duration(*v, "start_in", false, &secs);
      if (job.start_in && secs > kOneWeek) r.error(v->loc(), "'start_in' must be one week or less");
      if (job.when != When::kDelayed && !n.has_value("rules")) {
        r.error(v->loc(), "'start_in' is only valid with 'when: delayed'");
      }
    }
    if (job.when == When::kDelayed && !n.has_value("start_in")) {
      r.error(job.when_loc, "'when: delayed' needs 'start_in'");
    }
    if (const Node* v = n.get("allow_failure"))
      job.allow_failure = keywords::read_allow_failure(r, *v, "allow_failure");
    if (const Node* v = n.get("rules")) job.rules = keywords::read_rules(r, *v, "rules", false);
    if (const Node* v = n.get("only")) job.only = keywords::read_ref_filter(r, *v, "only");
    if (const Node* v = n.get("except")) job.except = keywords::read_ref_filter(r, *v, "except");
    if (n.has_value("rules")) {
      for (const char* k : {"only", "except", "start_in"}) {
        if (const MapEntry* e = n.find_entry(k); e != nullptr && !e->value.is_null()) {
          r.error(e->key_loc, quote(k) + " cannot be used together with 'rules'");
        }
      }
    }
    if (const Node* v = n.get("needs"))
      job.needs = keywords::read_needs(r, *v, "needs", &job.skipped);
    if (const Node* v = n.get("dependencies"))
      job.dependencies = r.located_list(*v, "dependencies");
    if (const Node* v = n.get("parallel"))
      job.parallel = keywords::read_parallel(r, *v, "parallel");
  }

  // GitLab: a job takes each `default:` keyword it does not set itself (no merging), unless
  // `inherit:default` excludes it.
  void apply_defaults(const Node& n, Job& job) {
    const Defaults& d = defaults_.values;
    auto take = [&](const char* k) {
      return defaults_.present.count(k) > 0 && !n.has_value(k) && job.inherit.inherits_default(k);
    };
    if (take("image")) job.image = d.image;
    if (take("services")) job.services = d.services;
    if (take("before_script")) job.before_script = d.before_script;
    if (take("after_script")) job.after_script = d.after_script;
    if (take("artifacts")) job.artifacts = d.artifacts;
    if (take("cache")) job.cache = d.cache;
    if (take("timeout")) {
      job.timeout = d.timeout;
      job.timeout_seconds = parse_default_timeout(d.timeout);
    }
    if (take("retry")) job.retry = d.retry;
    if (take("interruptible")) job.interruptible = d.interruptible;
    if (take("tags")) job.tags = d.tags;
  }

  static std::optional<std::int64_t> parse_default_timeout(const std::optional<std::string>& t);

  const Node& root_;
  Diagnostics& diags_;
  Pipeline p_;
  DefaultValues defaults_;
};

std::optional<std::int64_t> Builder::parse_default_timeout(const std::optional<std::string>& t) {
  if (!t) return std::nullopt;
  return parse_duration(*t);
}

}  // namespace

Pipeline build_pipeline(const Node& root, const std::string& file, Diagnostics& diags) {
  return Builder(root, file, diags).run();
}

}  // namespace gantry::schema
