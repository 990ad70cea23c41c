// The loading chain on the model: includes, extends, !reference, default/inherit, as GitLab's
// documentation describes them (examples taken from the CI/CD YAML reference).
#include "pipeline-schema/load.h"

#include <gtest/gtest.h>

#include "pipeline-schema/keywords/keyword_table.h"
#include "pipeline-schema/project_files.h"

namespace gantry::schema {
namespace {

LoadedPipeline load(std::string_view text, const FakeProjectFiles& files = {}) {
  return load_pipeline_text(text, ".gitlab-ci.yml", files);
}

std::string value_of(const Variables& vars, std::string_view name) {
  for (const auto& v : vars)
    if (v.name == name) return v.value;
  return "<unset>";
}

TEST(LoadTest, ExtendsMergesHashesAndReplacesArraysAsGitLabDocuments) {
  // GitLab docs, "extends: merge details".
  auto l = load(R"(
.only-important:
  variables:
    URL: "http://my-url.internal"
    IMPORTANT_VAR: "the details"
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
    - if: $CI_COMMIT_BRANCH =~ /^stable-branch/
  tags:
    - production
.in-docker:
  variables:
    URL: "http://docker-url.internal"
  tags:
    - docker
  image: alpine
rspec:
  variables:
    GITLAB: "is-awesome"
  extends:
    - .only-important
    - .in-docker
  script:
    - rake rspec
)");
  ASSERT_TRUE(l.ok()) << l.diagnostics.render();
  ASSERT_EQ(l.pipeline.jobs.size(), 1u);
  const Job& j = l.pipeline.jobs[0];
  EXPECT_EQ(j.name, "rspec");
  EXPECT_EQ(value_of(j.variables, "URL"), "http://docker-url.internal");
  EXPECT_EQ(value_of(j.variables, "IMPORTANT_VAR"), "the details");
  EXPECT_EQ(value_of(j.variables, "GITLAB"), "is-awesome");
  ASSERT_TRUE(j.rules.has_value());
  ASSERT_EQ(j.rules->size(), 2u);
  EXPECT_EQ(j.rules->at(1).if_expr->value, "$CI_COMMIT_BRANCH =~ /^stable-branch/");
  EXPECT_EQ(j.tags, std::vector<std::string>{"docker"});
  ASSERT_TRUE(j.image.has_value());
  EXPECT_EQ(j.image->name, "alpine");
  EXPECT_EQ(j.script->lines, std::vector<std::string>{"rake rspec"});
  EXPECT_EQ(l.pipeline.hidden_jobs, (std::vector<std::string>{".only-important", ".in-docker"}));
}

TEST(LoadTest, ExtendsSeveralLevelsResolvesParentsFirst) {
  auto l = load(R"(
.a: {stage: build, variables: {X: a, Y: a}}
.b: {extends: .a, variables: {Y: b}}
job: {extends: .b, script: make}
)");
  ASSERT_TRUE(l.ok()) << l.diagnostics.render();
  const Job& j = l.pipeline.jobs[0];
  EXPECT_EQ(j.stage, "build");
  EXPECT_EQ(value_of(j.variables, "X"), "a");
  EXPECT_EQ(value_of(j.variables, "Y"), "b");
}

TEST(LoadTest, DefaultAppliesWhereTheJobDoesNotSetTheKeyword) {
  auto l = load(R"(
default:
  image: ruby:3.0
  retry: 2
  tags: [linux]
  before_script: [echo default]
job1:
  script: make
job2:
  image: alpine
  tags: []
  script: make
job3:
  inherit:
    default: [retry]
  script: make
job4:
  inherit:
    default: false
  script: make
)");
  ASSERT_TRUE(l.ok()) << l.diagnostics.render();
  const auto& jobs = l.pipeline.jobs;
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(jobs[0].image->name, "ruby:3.0");
  EXPECT_EQ(jobs[0].retry->max, 2);
  EXPECT_EQ(jobs[0].before_script->lines, std::vector<std::string>{"echo default"});
  EXPECT_EQ(jobs[1].image->name, "alpine");           // the job's own wins, no merge
  EXPECT_TRUE(jobs[1].tags.empty());                  // an explicit empty list wins too
  EXPECT_EQ(jobs[1].retry->max, 2);
  EXPECT_FALSE(jobs[2].image.has_value());            // inherit: default: [retry]
  EXPECT_EQ(jobs[2].retry->max, 2);
  EXPECT_FALSE(jobs[3].image.has_value());            // inherit: default: false
  EXPECT_FALSE(jobs[3].retry.has_value());
  EXPECT_FALSE(jobs[3].before_script.has_value());
}

TEST(LoadTest, InheritVariablesSelectsGlobalVariables) {
  auto l = load(R"(
variables: {A: "1", B: "2"}
j1: {script: x, inherit: {variables: false}}
j2: {script: x, inherit: {variables: [B]}}
j3: {script: x}
)");
  ASSERT_TRUE(l.ok()) << l.diagnostics.render();
  EXPECT_FALSE(l.pipeline.jobs[0].inherit.inherits_variable("A"));
  EXPECT_FALSE(l.pipeline.jobs[1].inherit.inherits_variable("A"));
  EXPECT_TRUE(l.pipeline.jobs[1].inherit.inherits_variable("B"));
  EXPECT_TRUE(l.pipeline.jobs[2].inherit.inherits_variable("A"));
}

TEST(LoadTest, IncludedFilesMergeUnderTheMainFileWhichWins) {
  FakeProjectFiles files;
  files.add(
      "ci/a.yml",
      "variables: {A: from-a, B: from-a}\nbuild:\n  stage: build\n  script: a\n  tags: [a]\n");
  files.add("ci/b.yml", "variables: {B: from-b}\nlint: {script: lint}\n");
  auto l = load(R"(
include:
  - local: ci/a.yml
  - ci/b.yml
variables:
  C: main
build:
  script: main
)", files);
  ASSERT_TRUE(l.ok()) << l.diagnostics.render();
  EXPECT_EQ(value_of(l.pipeline.variables, "A"), "from-a");
  EXPECT_EQ(value_of(l.pipeline.variables, "B"), "from-b");  // later include wins
  EXPECT_EQ(value_of(l.pipeline.variables, "C"), "main");
  const Job* build = l.pipeline.find_job("build");
  ASSERT_NE(build, nullptr);
  EXPECT_EQ(build->script->lines, std::vector<std::string>{"main"});  // main file wins
  EXPECT_EQ(build->stage, "build");                                   // deep-merged from a.yml
  EXPECT_EQ(build->tags, std::vector<std::string>{"a"});
  EXPECT_NE(l.pipeline.find_job("lint"), nullptr);
  EXPECT_EQ(l.files, (std::vector<std::string>{".gitlab-ci.yml", "ci/a.yml", "ci/b.yml"}));
}

TEST(LoadTest, WildcardIncludeFollowsGitLabMatching) {
  FakeProjectFiles files;
  files.add("configs/a.yml", "a: {script: a}\n");
  files.add("configs/sub/b.yml", "b: {script: b}\n");
  auto shallow = load("include: 'configs/*.yml'\n", files);
  EXPECT_NE(shallow.pipeline.find_job("a"), nullptr);
  EXPECT_EQ(shallow.pipeline.find_job("b"), nullptr);
  auto deep = load("include: 'configs/**.yml'\n", files);
  EXPECT_NE(deep.pipeline.find_job("a"), nullptr);
  EXPECT_NE(deep.pipeline.find_job("b"), nullptr);
  auto sub = load("include: '/configs/**/*.yml'\n", files);
  EXPECT_EQ(sub.pipeline.find_job("a"), nullptr);
  EXPECT_NE(sub.pipeline.find_job("b"), nullptr);
}

TEST(LoadTest, ReferenceReusesScriptsAndRulesFlattened) {
  auto l = load(R"(
.setup:
  script: [echo one, echo two]
.rules:
  rules:
    - if: $A == "1"
job:
  script:
    - !reference [.setup, script]
    - make
  rules:
    - !reference [.rules, rules]
    - when: manual
)");
  ASSERT_TRUE(l.ok()) << l.diagnostics.render();
  const Job& j = l.pipeline.jobs[0];
  EXPECT_EQ(j.script->lines, (std::vector<std::string>{"echo one", "echo two", "make"}));
  ASSERT_EQ(j.rules->size(), 2u);
  EXPECT_EQ(j.rules->at(0).if_expr->value, "$A == \"1\"");
  EXPECT_EQ(j.rules->at(1).when, When::kManual);
}

TEST(LoadTest, ReferenceIsResolvedAfterExtends) {
  // GitLab resolves extends first, so a reference can read a value a job got from extends.
  auto l = load(R"(
.base: {script: [from-base]}
.mid: {extends: .base}
job:
  script: !reference [.mid, script]
)");
  ASSERT_TRUE(l.ok()) << l.diagnostics.render();
  EXPECT_EQ(l.pipeline.jobs[0].script->lines, std::vector<std::string>{"from-base"});
}

TEST(LoadTest, StagesGetPreAndPostAndDefaults) {
  auto dflt = load("j: {script: x}\n");
  std::vector<std::string> names;
  for (const auto& s : dflt.pipeline.stages) names.push_back(s.value);
  EXPECT_EQ(names, (std::vector<std::string>{".pre", "build", "test", "deploy", ".post"}));
  EXPECT_FALSE(dflt.pipeline.stages_declared);
  auto custom = load("stages: [one, two]\nj: {stage: one, script: x}\n");
  names.clear();
  for (const auto& s : custom.pipeline.stages) names.push_back(s.value);
  EXPECT_EQ(names, (std::vector<std::string>{".pre", "one", "two", ".post"}));
}

TEST(LoadTest, TypedValuesOfEveryKeyword) {
  auto l = load(R"(
job:
  script: make
  when: delayed
  start_in: 1 hour
  allow_failure: {exit_codes: [3]}
  timeout: 1h 30m
  retry: {max: 2, when: script_failure}
  parallel: {matrix: [{A: [x, y], B: z}]}
  needs: [{job: other, artifacts: false, optional: true}]
  cache: {key: {files: [a.lock]}, paths: [v/], policy: pull}
  artifacts: {paths: [out/], when: on_failure, expire_in: never}
  environment: {name: review/$CI_COMMIT_REF_SLUG, action: prepare}
  services: [{name: postgres, alias: db}]
  image: {name: alpine, entrypoint: [""]}
  variables: {X: {value: "1", expand: false}}
other: {script: x}
)");
  ASSERT_TRUE(l.ok()) << l.diagnostics.render();
  const Job& j = *l.pipeline.find_job("job");
  EXPECT_EQ(j.when, When::kDelayed);
  EXPECT_EQ(j.start_in, "1 hour");
  EXPECT_EQ(j.allow_failure->exit_codes, std::vector<int>{3});
  EXPECT_EQ(j.timeout_seconds, 5400);
  EXPECT_EQ(j.retry->max, 2);
  EXPECT_EQ(j.retry->when, std::vector<std::string>{"script_failure"});
  ASSERT_EQ(j.parallel->matrix.size(), 1u);
  EXPECT_EQ(j.parallel->matrix[0][0].second, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(j.parallel->matrix[0][1].second, std::vector<std::string>{"z"});
  ASSERT_EQ(j.needs->size(), 1u);
  EXPECT_FALSE(j.needs->at(0).artifacts);
  EXPECT_TRUE(j.needs->at(0).optional);
  EXPECT_EQ(j.cache[0].key_files, std::vector<std::string>{"a.lock"});
  EXPECT_EQ(j.cache[0].policy, "pull");
  EXPECT_EQ(j.artifacts->when, When::kOnFailure);
  EXPECT_EQ(j.artifacts->expire_in, "never");
  EXPECT_EQ(j.environment->action, "prepare");
  EXPECT_EQ(j.services[0].alias, "db");
  EXPECT_EQ(j.image->entrypoint, std::vector<std::string>{""});
  EXPECT_FALSE(j.variables[0].expand);
  EXPECT_EQ(l.pipeline.find_job("other")->needs, std::nullopt);  // stage order
}

TEST(LoadTest, ReportsAllMistakesAtOnce) {
  auto l = load("a: {scirpt: x}\nb: {script: x, when: nope}\nc: {script: x, stage: nope}\n");
  EXPECT_EQ(l.diagnostics.error_count(), 4u) << l.diagnostics.render();  // a: typo + no script
}

TEST(LoadTest, EmptyFileIsAnError) {
  auto l = load("");
  ASSERT_EQ(l.diagnostics.error_count(), 1u);
  EXPECT_EQ(l.diagnostics.render(),
            ".gitlab-ci.yml:1:1: error: the pipeline file is empty; it needs at least one job\n");
}

TEST(LoadTest, FindsGantryFileBeforeGitLabFile) {
  FakeProjectFiles files;
  files.add(".gitlab-ci.yml", "j: {script: x}\n");
  EXPECT_EQ(*find_pipeline_file(files, "."), ".gitlab-ci.yml");
  files.add(".gantry-ci.yml", "j: {script: x}\n");
  EXPECT_EQ(*find_pipeline_file(files, "."), ".gantry-ci.yml");
  FakeProjectFiles none;
  auto missing = find_pipeline_file(none, "repo");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find(".gitlab-ci.yml"), std::string::npos);
}

TEST(KeywordTableTest, SuggestsCloseKeywordsOnly) {
  using keywords::did_you_mean;
  using keywords::keywords_for;
  EXPECT_EQ(did_you_mean("scirpt", keywords_for("job")), "script");
  EXPECT_EQ(did_you_mean("artifact", keywords_for("job")), "artifacts");
  EXPECT_EQ(did_you_mean("before_scirpt", keywords_for("job")), "before_script");
  EXPECT_EQ(did_you_mean("stage", keywords_for("default")), std::nullopt);
  EXPECT_EQ(did_you_mean("zzz", keywords_for("job")), std::nullopt);
}

TEST(ProjectFilesTest, WildcardsFollowGitLab) {
  EXPECT_TRUE(wildcard_match("configs/*.yml", "configs/a.yml"));
  EXPECT_FALSE(wildcard_match("configs/*.yml", "configs/sub/a.yml"));
  EXPECT_TRUE(wildcard_match("configs/**.yml", "configs/sub/a.yml"));
  EXPECT_TRUE(wildcard_match("/configs/**/*.yml", "configs/sub/deeper/a.yml"));
  EXPECT_FALSE(wildcard_match("/configs/**/*.yml", "configs/a.yml"));
}

}  // namespace
}  // namespace gantry::schema

namespace gantry::schema {
namespace {

TEST(LoadTest, KeywordWithNoValueCountsAsNotSet) {
  // GitLab treats `key:` with no value as unspecified, so defaults and default stages apply.
  auto l = load(R"(
stages:
include:
default:
  before_script: [echo default]
job:
  stage:
  before_script:
  image:
  only:
  rules:
    - when: always
  script: make
)");
  ASSERT_TRUE(l.ok()) << l.diagnostics.render();
  const Job& j = l.pipeline.jobs[0];
  EXPECT_EQ(j.stage, "test");
  EXPECT_FALSE(j.image.has_value());
  ASSERT_TRUE(j.before_script.has_value());
  EXPECT_EQ(j.before_script->lines, std::vector<std::string>{"echo default"});
  EXPECT_FALSE(l.pipeline.stages_declared);
}

}  // namespace
}  // namespace gantry::schema

#include "common/file.h"
#include "tests/support/temp_dir.h"

namespace gantry::schema {
namespace {

TEST(LoadTest, WildcardIncludeFromAHiddenDirectoryOnDisk) {
  // `.gitlab/ci/*.yml` is the commonest layout; the listing starts at the pattern's directory,
  // so a hidden directory named in the pattern is searched, while `.git` below is not.
  testing::TempDir dir;
  ASSERT_TRUE(make_dirs(dir.file(".gitlab/ci/.git")).ok());
  ASSERT_TRUE(write_file(dir.file(".gitlab/ci/build.yml"), "build: {script: make}\n").ok());
  ASSERT_TRUE(write_file(dir.file(".gitlab/ci/.git/x.yml"), "nope: {script: x}\n").ok());
  ASSERT_TRUE(write_file(dir.file(".gitlab-ci.yml"), "include: '.gitlab/ci/**.yml'\n").ok());
  auto l = load_pipeline(dir.path());
  ASSERT_TRUE(l.ok()) << l.error().message();
  EXPECT_TRUE(l->ok()) << l->diagnostics.render();
  EXPECT_NE(l->pipeline.find_job("build"), nullptr);
  EXPECT_EQ(l->pipeline.find_job("nope"), nullptr);
  EXPECT_EQ(wildcard_base_dir("/ci/jobs/*.yml"), "ci/jobs");
  EXPECT_EQ(wildcard_base_dir("*.yml"), "");
  EXPECT_EQ(wildcard_base_dir("a/**/b/*.yml"), "a");
}

}  // namespace
}  // namespace gantry::schema
