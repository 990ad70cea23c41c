// The Pipeline model (contract 1, first half): what a `.gantry-ci.yml` / `.gitlab-ci.yml` says,
// after includes, `extends`, `!reference`, anchors and `default:` have been applied, typed and
// validated, with the SourceLocation of every keyword for diagnostics. Made by load.h; the plan
// (plan.h) evaluates it for one trigger (rules, only/except, variables, matrix, needs DAG).
// Jobs are the visible jobs only (hidden `.name` jobs are templates), in file order.
// Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline-schema/source_location.h"

namespace gantry::schema {

// A string with where it was written. For expressions (`rules:if`), `quoted` says whether the
// YAML scalar was quoted, i.e. whether its text starts one column after `loc`.
struct LocatedString {
  std::string value;
  SourceLocation loc;
  bool quoted = false;
  bool operator==(const LocatedString& o) const { return value == o.value; }
};

// `when:` values. kNever only appears in `rules:` and `workflow:rules:`.
enum class When { kOnSuccess, kOnFailure, kAlways, kManual, kDelayed, kNever };
std::string_view when_name(When w);  // "on_success", ...
std::optional<When> parse_when(std::string_view s);

// One entry of `variables:`; the `value`/`description`/`options`/`expand` form or a plain value.
struct Variable {
  std::string name;
  std::string value;
  std::optional<std::string> description;  // top-level only (pipeline form)
  std::vector<std::string> options;        // top-level only
  bool expand = true;                      // `expand: false` → value used literally
  SourceLocation loc;                      // the variable's key
};
using Variables = std::vector<Variable>;  // in file order; names unique

// `image:` (string or map form).
struct Image {
  std::string name;
  std::optional<std::vector<std::string>> entrypoint;  // set → overrides the image's
  std::vector<std::string> pull_policy;                // always, if-not-present, never
  std::optional<std::string> platform;                 // image:docker:platform
  std::optional<std::string> user;                     // image:docker:user
  SourceLocation loc;
};

// One entry of `services:`.
struct Service {
  std::string name;
  std::optional<std::string> alias;  // may hold several, comma separated (GitLab)
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> command;
  Variables variables;
  std::vector<std::string> pull_policy;
  SourceLocation loc;
};

// `script:`, `before_script:`, `after_script:` — nested lists already flattened.
struct Script {
  std::vector<std::string> lines;
  SourceLocation loc;
};

// `allow_failure:` — a boolean or `exit_codes:`.
struct AllowFailure {
  bool allowed = false;              // `allow_failure: true`
  std::vector<int> exit_codes;       // non-empty: allowed only for these exit codes
  SourceLocation loc;
};

// `changes:` (in rules, only/except): list form or {paths, compare_to}.
struct Changes {
  std::vector<std::string> paths;  // globs, relative to the project root
  std::optional<std::string> compare_to;
  SourceLocation loc;
};

// `exists:` (in rules): list form or {paths, project, ref}.
struct Exists {
  std::vector<std::string> paths;  // globs
  std::optional<std::string> project;
  std::optional<std::string> ref;
  SourceLocation loc;
};

// One entry of `needs:`.
struct Need {
  std::string job;
  bool artifacts = true;
  bool optional = false;
  std::optional<std::string> pipeline;  // cross-pipeline needs (not executed by gantry)
  std::optional<std::string> project;   // cross-project needs (not executed by gantry)
  std::optional<std::string> ref;
  // needs:parallel:matrix — which instances of a matrix job are needed.
  std::vector<std::vector<std::pair<std::string, std::vector<std::string>>>> matrix;
  SourceLocation loc;
};

// One entry of `rules:` (job rules or `workflow:rules`).
struct Rule {
  std::optional<LocatedString> if_expr;
  std::optional<Changes> changes;
  std::optional<Exists> exists;
  std::optional<When> when;
  SourceLocation when_loc;
  std::optional<std::string> start_in;
  std::optional<AllowFailure> allow_failure;
  Variables variables;
  std::optional<std::vector<Need>> needs;
  std::optional<bool> interruptible;
  std::optional<std::string> auto_cancel_on_new_commit;  // workflow:rules:auto_cancel
  SourceLocation loc;
};

// `only:` or `except:` — refs list form or {refs, variables, changes, kubernetes}.
struct RefFilter {
  std::vector<LocatedString> refs;       // "branches", "tags", "main", "/^release-.*$/i", ...
  std::vector<LocatedString> variables;  // expressions, any true → match
  std::optional<Changes> changes;
  std::optional<std::string> kubernetes;  // "active"
  SourceLocation loc;
};

// One matrix entry: ordered variable name → values (a single value is a one-element list).
using MatrixEntry = std::vector<std::pair<std::string, std::vector<std::string>>>;

// `parallel:` — a count, or `matrix:`.
struct Parallel {
  int count = 0;                    // `parallel: N` (2..200); 0 with a matrix
  std::vector<MatrixEntry> matrix;  // `parallel: matrix:`
  SourceLocation loc;
};

struct Artifacts {
  std::vector<std::string> paths;    // globs
  std::vector<std::string> exclude;  // globs
  bool untracked = false;
  When when = When::kOnSuccess;  // on_success, on_failure, always
  std::optional<std::string> expire_in;
  std::optional<std::string> name;
  std::optional<std::string> expose_as;
  std::optional<bool> is_public;
  std::optional<std::string> access;  // all, developer, none
  std::vector<std::string> reports;   // report kinds named (not executed by gantry)
  SourceLocation loc;
};

struct Cache {
  std::optional<std::string> key;        // `key: string`
  std::vector<std::string> key_files;    // `key: files:` (1 or 2 files)
  std::optional<std::string> key_prefix; // `key: prefix:`
  std::vector<std::string> paths;
  bool untracked = false;
  bool unprotect = false;
  std::string policy = "pull-push";  // pull, push, pull-push
  When when = When::kOnSuccess;      // on_success, on_failure, always
  std::vector<std::string> fallback_keys;
  SourceLocation loc;
};

struct Retry {
  int max = 0;                      // 0..2
  std::vector<std::string> when;    // failure kinds; empty = always
  std::vector<int> exit_codes;
  SourceLocation loc;
};

struct Environment {
  std::string name;
  std::optional<std::string> url;
  std::optional<std::string> action;  // start, prepare, stop, verify, access
  std::optional<std::string> on_stop;
  std::optional<std::string> auto_stop_in;
  std::optional<std::string> deployment_tier;
  SourceLocation loc;
};

// `inherit:` — which `default:` keywords and global variables a job takes.
struct Inherit {
  bool all_default = true;
  std::vector<std::string> default_keys;  // when !all_default: only these
  bool all_variables = true;
  std::vector<std::string> variable_names;  // when !all_variables: only these

  bool inherits_default(std::string_view keyword) const;
  bool inherits_variable(std::string_view name) const;
};

// A keyword GitLab knows and gantry accepts but does not execute (trigger, release, pages, ...).
struct SkippedKeyword {
  std::string keyword;  // "trigger", "artifacts:reports", "secrets", ...
  SourceLocation loc;
};

struct Job {
  std::string name;
  SourceLocation loc;  // the job's key

  std::string stage = "test";
  SourceLocation stage_loc;  // the `stage:` value, or the job's key when implicit
  std::optional<Image> image;
  std::vector<Service> services;
  std::optional<Script> before_script;
  std::optional<Script> script;
  std::optional<Script> after_script;
  Variables variables;  // the job's own; globals are Pipeline::variables filtered by `inherit`

  std::optional<std::vector<Rule>> rules;
  std::optional<RefFilter> only;
  std::optional<RefFilter> except;
  When when = When::kOnSuccess;
  bool when_set = false;  // `when:` written (or inherited via extends), vs the default
  SourceLocation when_loc;
  std::optional<std::string> start_in;  // with when: delayed
  std::optional<AllowFailure> allow_failure;  // unset → GitLab's default for the `when`
  std::optional<std::vector<Need>> needs;     // unset → stage order; empty → `needs: []`
  std::optional<std::vector<LocatedString>> dependencies;
  std::optional<Parallel> parallel;

  std::optional<Artifacts> artifacts;
  std::vector<Cache> cache;
  std::optional<std::string> timeout;          // as written ("1h 30m")
  std::optional<std::int64_t> timeout_seconds;
  std::optional<Retry> retry;
  std::optional<bool> interruptible;
  std::vector<std::string> tags;
  std::optional<Environment> environment;
  std::optional<std::string> resource_group;
  std::optional<std::string> coverage;  // "/regex/"
  Inherit inherit;

  std::vector<SkippedKeyword> skipped;  // accepted, not executed; `run` reports them
  bool is_trigger = false;              // a `trigger:` job (child/multi-project pipeline)
};

struct Workflow {
  std::optional<std::string> name;
  std::optional<std::vector<Rule>> rules;
  SourceLocation loc;
};

// `default:` after validation (also fed by the deprecated top-level image/services/... form).
struct Defaults {
  std::optional<Image> image;
  std::vector<Service> services;
  std::optional<Script> before_script;
  std::optional<Script> after_script;
  std::optional<Artifacts> artifacts;
  std::vector<Cache> cache;
  std::optional<std::string> timeout;
  std::optional<Retry> retry;
  std::optional<bool> interruptible;
  std::vector<std::string> tags;
  SourceLocation loc;
};

struct Pipeline {
  std::string file;  // the main pipeline file, relative to the project root
  // Stages in order, `.pre` first and `.post` last (GitLab's default: build, test, deploy).
  std::vector<LocatedString> stages;
  bool stages_declared = false;
  Variables variables;  // global
  Workflow workflow;
  Defaults defaults;  // already applied to each job (per `inherit:`); kept for reference
  std::vector<Job> jobs;
  std::vector<std::string> hidden_jobs;  // `.name` templates, for `extends` and tooling

  const Job* find_job(std::string_view name) const;
  bool has_stage(std::string_view name) const;
  int stage_index(std::string_view name) const;  // -1 when unknown
};

}  // namespace gantry::schema
