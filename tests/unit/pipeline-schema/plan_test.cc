// make_plan over hand-built models: which jobs run for a trigger, with which when /
// allow_failure / needs / variables, and what stops a pipeline. The golden tests cover the same
// ground from YAML; these pin the evaluation without the loader.
#include <gtest/gtest.h>

#include "pipeline-schema/plan.h"

namespace gantry::schema {
namespace {

class PlanTest : public ::testing::Test {
 protected:
  PlanTest() {
    pipeline_.file = ".gitlab-ci.yml";
    for (auto s : {".pre", "build", "test", "deploy", ".post"}) {
      pipeline_.stages.push_back({s, {}, false});
    }
  }

  Job& add_job(std::string name, std::string stage) {
    Job j;
    j.name = std::move(name);
    j.stage = std::move(stage);
    j.loc = {".gitlab-ci.yml", static_cast<int>(pipeline_.jobs.size()) * 10 + 1, 1};
    j.script = Script{{"echo $CI_JOB_NAME"}, {}};
    pipeline_.jobs.push_back(std::move(j));
    return pipeline_.jobs.back();
  }

  static Rule rule_if(std::string expr, std::optional<When> when = std::nullopt) {
    Rule r;
    r.if_expr = LocatedString{std::move(expr), {}, false};
    r.when = when;
    return r;
  }

  static Need need(std::string job, bool optional = false) {
    Need n;
    n.job = std::move(job);
    n.optional = optional;
    n.loc = {".gitlab-ci.yml", 99, 7};
    return n;
  }

  std::vector<std::string> names(const Plan& p) {
    std::vector<std::string> out;
    for (const auto& j : p.jobs) out.push_back(j.name);
    return out;
  }

  Pipeline pipeline_;
  TriggerContext trigger_;
};

TEST_F(PlanTest, JobsInStageOrderThenFileOrderAndEmptyStagesDropped) {
  add_job("deploy", "deploy");
  add_job("unit", "test");
  add_job("compile", "build");
  add_job("lint", "test");
  auto r = make_plan(pipeline_, trigger_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(names(r.plan), (std::vector<std::string>{"compile", "unit", "lint", "deploy"}));
  EXPECT_EQ(r.plan.stages, (std::vector<std::string>{"build", "test", "deploy"}));
}

TEST_F(PlanTest, NoJobsOrOnlyPrePostJobsMeansNoPipeline) {
  Job& a = add_job("a", "test");
  a.rules = std::vector<Rule>{rule_if("$CI_COMMIT_TAG")};
  auto r = make_plan(pipeline_, trigger_);
  EXPECT_FALSE(r.plan.created);
  EXPECT_NE(r.plan.stopped_reason.find("no job runs"), std::string::npos);
  add_job("setup", ".pre");
  r = make_plan(pipeline_, trigger_);
  EXPECT_FALSE(r.plan.created);
  EXPECT_TRUE(r.plan.jobs.empty());
  EXPECT_NE(r.plan.stopped_reason.find(".pre/.post"), std::string::npos);
  trigger_.tag = "v1";
  r = make_plan(pipeline_, trigger_);
  EXPECT_TRUE(r.plan.created);
  EXPECT_EQ(names(r.plan), (std::vector<std::string>{"setup", "a"}));
}

TEST_F(PlanTest, RulesFirstMatchWins) {
  Job& j = add_job("job", "test");
  j.rules = std::vector<Rule>{rule_if("$CI_COMMIT_BRANCH == 'main'", When::kManual),
                              rule_if("$CI_COMMIT_BRANCH", When::kAlways)};
  auto r = make_plan(pipeline_, trigger_);
  ASSERT_EQ(r.plan.jobs.size(), 1u);
  EXPECT_EQ(r.plan.jobs[0].when, When::kManual);
  // Manual from rules: allow_failure defaults to false.
  EXPECT_FALSE(r.plan.jobs[0].allow_failure);

  trigger_.branch = "dev";
  r = make_plan(pipeline_, trigger_);
  ASSERT_EQ(r.plan.jobs.size(), 1u);
  EXPECT_EQ(r.plan.jobs[0].when, When::kAlways);
}

TEST_F(PlanTest, NoMatchingRuleOrWhenNeverExcludes) {
  Job& a = add_job("a", "test");
  a.rules = std::vector<Rule>{rule_if("$CI_COMMIT_TAG")};
  Job& b = add_job("b", "test");
  b.rules = std::vector<Rule>{rule_if("$CI_COMMIT_BRANCH == 'main'", When::kNever), Rule{}};
  add_job("c", "test");
  auto r = make_plan(pipeline_, trigger_);
  EXPECT_EQ(names(r.plan), (std::vector<std::string>{"c"}));
}

TEST_F(PlanTest, JobLevelManualDefaultsToAllowFailure) {
  Job& j = add_job("deploy", "deploy");
  j.when = When::kManual;
  j.when_set = true;
  auto r = make_plan(pipeline_, trigger_);
  ASSERT_EQ(r.plan.jobs.size(), 1u);
  EXPECT_TRUE(r.plan.jobs[0].allow_failure);
  j.allow_failure = AllowFailure{false, {}, {}};
  r = make_plan(pipeline_, trigger_);
  EXPECT_FALSE(r.plan.jobs[0].allow_failure);
}

TEST_F(PlanTest, RuleAllowFailureOverridesJob) {
  Job& j = add_job("job", "test");
  Rule rule = rule_if("$CI_COMMIT_BRANCH", When::kManual);
  rule.allow_failure = AllowFailure{true, {}, {}};
  j.rules = std::vector<Rule>{rule};
  auto r = make_plan(pipeline_, trigger_);
  ASSERT_EQ(r.plan.jobs.size(), 1u);
  EXPECT_TRUE(r.plan.jobs[0].allow_failure);
}

TEST_F(PlanTest, ExitCodesAllowOnlyThoseFailures) {
  Job& j = add_job("job", "test");
  j.allow_failure = AllowFailure{false, {42, 137}, {}};
  auto r = make_plan(pipeline_, trigger_);
  ASSERT_EQ(r.plan.jobs.size(), 1u);
  EXPECT_FALSE(r.plan.jobs[0].allow_failure);
  EXPECT_EQ(r.plan.jobs[0].allow_failure_exit_codes, (std::vector<int>{42, 137}));
}

TEST_F(PlanTest, WorkflowRulesStopThePipeline) {
  add_job("job", "test");
  pipeline_.workflow.rules = std::vector<Rule>{rule_if("$CI_PIPELINE_SOURCE == 'schedule'")};
  auto r = make_plan(pipeline_, trigger_);
  EXPECT_FALSE(r.plan.created);
  EXPECT_TRUE(r.plan.jobs.empty());
  EXPECT_TRUE(r.plan.stages.empty());
  EXPECT_NE(r.plan.stopped_reason.find("no rule matches branch 'main'"), std::string::npos);

  pipeline_.workflow.rules = std::vector<Rule>{rule_if("$CI_COMMIT_BRANCH", When::kNever)};
  r = make_plan(pipeline_, trigger_);
  EXPECT_FALSE(r.plan.created);
  EXPECT_NE(r.plan.stopped_reason.find("when: never"), std::string::npos);

  trigger_.source = "schedule";
  pipeline_.workflow.rules = std::vector<Rule>{rule_if("$CI_PIPELINE_SOURCE == 'schedule'")};
  r = make_plan(pipeline_, trigger_);
  EXPECT_TRUE(r.plan.created);
  EXPECT_EQ(r.plan.jobs.size(), 1u);
}

TEST_F(PlanTest, VariablePrecedenceTriggerOverJobOverGlobal) {
  pipeline_.variables = {{"A", "global", {}, {}, true, {}}, {"B", "global", {}, {}, true, {}},
                         {"C", "global", {}, {}, true, {}}};
  Job& j = add_job("job", "test");
  j.variables = {{"B", "job", {}, {}, true, {}}, {"C", "job-$A", {}, {}, true, {}}};
  trigger_.variables = {{"C", "trigger"}};
  auto r = make_plan(pipeline_, trigger_);
  ASSERT_EQ(r.plan.jobs.size(), 1u);
  const auto& v = r.plan.jobs[0].variables;
  EXPECT_EQ(*v.value_of("A"), "global");
  EXPECT_EQ(*v.value_of("B"), "job");
  EXPECT_EQ(*v.value_of("C"), "trigger");
  EXPECT_EQ(*v.value_of("CI_JOB_NAME"), "job");
}

TEST_F(PlanTest, InheritVariablesFalseDropsGlobals) {
  pipeline_.variables = {{"A", "global", {}, {}, true, {}}};
  Job& j = add_job("job", "test");
  j.inherit.all_variables = false;
  auto r = make_plan(pipeline_, trigger_);
  EXPECT_FALSE(r.plan.jobs[0].variables.contains("A"));
}

TEST_F(PlanTest, RulesSeeJobAndMatrixVariables) {
  Job& j = add_job("deploy", "deploy");
  j.parallel = Parallel{0, {{{"ENV", {"staging", "prod"}}}}, {}};
  j.rules = std::vector<Rule>{rule_if("$ENV == 'prod'", When::kManual), Rule{}};
  auto r = make_plan(pipeline_, trigger_);
  ASSERT_EQ(names(r.plan),
            (std::vector<std::string>{"deploy: [staging]", "deploy: [prod]"}));
  EXPECT_EQ(r.plan.jobs[0].when, When::kOnSuccess);
  EXPECT_EQ(r.plan.jobs[1].when, When::kManual);
  EXPECT_EQ(*r.plan.jobs[1].variables.value_of("ENV"), "prod");
  EXPECT_EQ(*r.plan.jobs[1].variables.value_of("CI_NODE_INDEX"), "2");
}

TEST_F(PlanTest, NeedsOfAParallelJobMeanAllItsInstances) {
  Job& b = add_job("build", "build");
  b.parallel = Parallel{2, {}, {}};
  Job& t = add_job("test", "test");
  t.needs = std::vector<Need>{need("build")};
  auto r = make_plan(pipeline_, trigger_);
  ASSERT_TRUE(r.ok());
  const auto* job = r.plan.find_job("test");
  ASSERT_NE(job, nullptr);
  ASSERT_TRUE(job->needs.has_value());
  EXPECT_EQ(job->needs->size(), 2u);
  EXPECT_EQ((*job->needs)[0].job, "build 1/2");
  EXPECT_EQ(job->dependencies, (std::vector<std::string>{"build 1/2", "build 2/2"}));
}

TEST_F(PlanTest, NeedOfAnExcludedJobIsAnErrorUnlessOptional) {
  Job& b = add_job("build", "build");
  b.rules = std::vector<Rule>{rule_if("$CI_COMMIT_TAG")};
  Job& t = add_job("test", "test");
  t.needs = std::vector<Need>{need("build")};
  auto r = make_plan(pipeline_, trigger_);
  ASSERT_EQ(r.diagnostics.error_count(), 1u);
  EXPECT_EQ(r.diagnostics.all()[0].loc.line, 99);
  EXPECT_NE(r.diagnostics.all()[0].message.find("not in the pipeline"), std::string::npos);

  (*pipeline_.jobs[1].needs)[0].optional = true;
  r = make_plan(pipeline_, trigger_);
  EXPECT_TRUE(r.ok());
  ASSERT_TRUE(r.plan.jobs[0].needs.has_value());
  EXPECT_TRUE(r.plan.jobs[0].needs->empty());
}

TEST_F(PlanTest, EmptyNeedsIsNotStageOrder) {
  add_job("build", "build");
  Job& t = add_job("test", "test");
  t.needs = std::vector<Need>{};
  add_job("deploy", "deploy");
  auto r = make_plan(pipeline_, trigger_);
  const auto* test = r.plan.find_job("test");
  ASSERT_TRUE(test->needs.has_value());
  EXPECT_TRUE(test->needs->empty());
  EXPECT_TRUE(test->dependencies.empty());
  const auto* deploy = r.plan.find_job("deploy");
  EXPECT_FALSE(deploy->needs.has_value());
  EXPECT_EQ(deploy->dependencies, (std::vector<std::string>{"build", "test"}));
}

TEST_F(PlanTest, MergeRequestPipelinesSkipJobsWithoutRules) {
  add_job("plain", "test");
  Job& mr = add_job("mr", "test");
  mr.rules = std::vector<Rule>{rule_if("$CI_PIPELINE_SOURCE == 'merge_request_event'")};
  trigger_.source = "merge_request_event";
  trigger_.branch = "topic";
  auto r = make_plan(pipeline_, trigger_);
  EXPECT_EQ(names(r.plan), (std::vector<std::string>{"mr"}));
}

TEST_F(PlanTest, VariableCycleIsADiagnosticAtTheJob) {
  Job& j = add_job("job", "test");
  j.variables = {{"A", "$B", {}, {}, true, {}}, {"B", "$A", {}, {}, true, {}}};
  auto r = make_plan(pipeline_, trigger_);
  ASSERT_EQ(r.diagnostics.error_count(), 1u);
  EXPECT_EQ(r.diagnostics.all()[0].loc, j.loc);
  EXPECT_NE(r.diagnostics.all()[0].message.find("A -> B -> A"), std::string::npos);
}

TEST_F(PlanTest, JsonRoundTrip) {
  Job& j = add_job("build", "build");
  j.image = Image{"alpine:$TAG", std::nullopt, {}, std::nullopt, std::nullopt, {}};
  j.variables = {{"TAG", "3.19", {}, {}, true, {}}};
  j.artifacts = Artifacts{};
  j.artifacts->paths = {"out/"};
  Job& t = add_job("test", "test");
  t.needs = std::vector<Need>{need("build")};
  t.when = When::kDelayed;
  t.start_in = "5 minutes";
  auto r = make_plan(pipeline_, trigger_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.plan.jobs[0].image->name, "alpine:3.19");
  auto json = plan_to_json(r.plan);
  auto back = plan_from_json(json);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(plan_to_json(*back), json);
  EXPECT_EQ(back->jobs[1].start_in, "5 minutes");

  Json bad = json;
  bad["jobs"][1]["when"] = "sometimes";
  auto err = plan_from_json(bad);
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().message().find("jobs[1]"), std::string::npos) << err.error().message();
}

TEST_F(PlanTest, SummaryJsonHasTheDocumentedShape) {
  Job& j = add_job("build", "build");
  j.variables = {{"WHO", "world", {}, {}, true, {}}};
  j.script = Script{{"echo hello $WHO", "echo $UNSET"}, {}};
  auto r = make_plan(pipeline_, trigger_);
  EXPECT_EQ(plan_summary_json(r.plan).dump(),
            R"({"stages":["build"],"jobs":[{"name":"build","stage":"build","when":"on_success",)"
            R"("allow_failure":false,"image":null,"needs":null,"script":["echo hello world",)"
            R"("echo $UNSET"]}]})");
}

}  // namespace
}  // namespace gantry::schema
