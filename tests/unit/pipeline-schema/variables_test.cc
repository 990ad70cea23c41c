// Variables: precedence by layering, GitLab's nested expansion, escapes, raw values, cycles,
// the predefined CI_* set for a trigger.
#include <gtest/gtest.h>

#include "pipeline-schema/variables.h"

namespace gantry::schema {
namespace {

TEST(VariableSetTest, LaterSetOverridesAndKeepsPosition) {
  VariableSet v;
  v.set("A", "global");
  v.set("B", "b");
  v.set("A", "job");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v.entries()[0].name, "A");
  EXPECT_EQ(*v.value_of("A"), "job");
  EXPECT_FALSE(v.value_of("C").has_value());
}

TEST(ExpandAllTest, ExpandsNestedReferencesInAllThreeForms) {
  VariableSet v;
  v.set("PACKAGE_PATH", "${OUT_PATH}/pkg");
  v.set("OUT_PATH", "$BUILD_ROOT_DIR/out");
  v.set("BUILD_ROOT_DIR", "%CI_BUILDS_DIR%");
  v.set("CI_BUILDS_DIR", "/output");
  auto r = expand_all(v);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r->value_of("PACKAGE_PATH"), "/output/out/pkg");
}

TEST(ExpandAllTest, LeavesUnknownAndSelfReferencesForTheShell) {
  VariableSet v;
  v.set("PATH", "$PATH:/opt/bin");
  v.set("X", "${NOPE}-$ALSO_NOPE");
  auto r = expand_all(v);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->value_of("PATH"), "$PATH:/opt/bin");
  EXPECT_EQ(*r->value_of("X"), "${NOPE}-$ALSO_NOPE");
}

TEST(ExpandAllTest, DoubleDollarIsALiteralDollar) {
  // GitLab's documented example: LS_CMD: 'ls "$FLAGS" $$TMP_DIR' → ls "-al" $TMP_DIR
  VariableSet v;
  v.set("FLAGS", "-al");
  v.set("LS_CMD", "ls \"$FLAGS\" $$TMP_DIR");
  v.set("FLAGS", "-al");
  v.set("USES_CMD", "run: $LS_CMD");
  auto r = expand_all(v);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->value_of("LS_CMD"), "ls \"-al\" $TMP_DIR");
  EXPECT_EQ(*r->value_of("USES_CMD"), "run: ls \"-al\" $TMP_DIR");
}

TEST(ExpandAllTest, RawValuesAreNeitherExpandedNorUnescaped) {
  VariableSet v;
  v.set("FLAGS", "-al");
  v.set("RAW", "ls $FLAGS $$X", /*expand=*/false);
  v.set("USER", "cmd: $RAW");
  auto r = expand_all(v);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->value_of("RAW"), "ls $FLAGS $$X");
  EXPECT_EQ(*r->value_of("USER"), "cmd: ls $FLAGS $$X");
  EXPECT_FALSE(r->find("RAW")->expand);
}

TEST(ExpandAllTest, CycleIsAnErrorNamingIt) {
  VariableSet v;
  v.set("A", "$B");
  v.set("B", "x${C}");
  v.set("C", "$A");
  auto r = expand_all(v);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "circular variable reference: A -> B -> C -> A");
}

TEST(ExpandForDisplayTest, ExpandsKnownShellReferencesOnly) {
  VariableSet v;
  v.set("NAME", "world");
  EXPECT_EQ(expand_for_display("echo $NAME ${NAME}s $OTHER $$ %NAME% $", v),
            "echo world worlds $OTHER $$ %NAME% $");
}

TEST(SlugifyTest, FollowsGitLabsRules) {
  EXPECT_EQ(slugify("Feature/ABC_1.2"), "feature-abc-1-2");
  EXPECT_EQ(slugify("--x--"), "x");
  EXPECT_EQ(slugify(std::string(70, 'a')), std::string(63, 'a'));
}

TEST(PredefinedTest, BranchPushPipeline) {
  TriggerContext t;
  t.branch = "feature/login";
  t.sha = "0123456789abcdef0123456789abcdef01234567";
  t.project_path = "group/app";
  auto v = predefined_pipeline_variables(t, ".gitlab-ci.yml");
  EXPECT_EQ(*v.value_of("CI_COMMIT_BRANCH"), "feature/login");
  EXPECT_EQ(*v.value_of("CI_COMMIT_REF_NAME"), "feature/login");
  EXPECT_EQ(*v.value_of("CI_COMMIT_REF_SLUG"), "feature-login");
  EXPECT_EQ(*v.value_of("CI_COMMIT_SHORT_SHA"), "01234567");
  EXPECT_FALSE(v.contains("CI_COMMIT_TAG"));
  EXPECT_EQ(*v.value_of("CI_PIPELINE_SOURCE"), "push");
  EXPECT_EQ(*v.value_of("CI_DEFAULT_BRANCH"), "main");
  EXPECT_EQ(*v.value_of("CI_PROJECT_NAME"), "app");
  EXPECT_EQ(*v.value_of("CI_PROJECT_NAMESPACE"), "group");
  EXPECT_EQ(*v.value_of("CI_PROJECT_DIR"), "/builds/group/app");
  EXPECT_EQ(*v.value_of("CI_CONFIG_PATH"), ".gitlab-ci.yml");
  EXPECT_EQ(*v.value_of("GITLAB_CI"), "true");
}

TEST(PredefinedTest, TagPipelineHasTagButNoBranch) {
  TriggerContext t;
  t.tag = "v1.2.0";
  auto v = predefined_pipeline_variables(t, ".gitlab-ci.yml");
  EXPECT_EQ(*v.value_of("CI_COMMIT_TAG"), "v1.2.0");
  EXPECT_EQ(*v.value_of("CI_COMMIT_REF_NAME"), "v1.2.0");
  EXPECT_FALSE(v.contains("CI_COMMIT_BRANCH"));
}

TEST(PredefinedTest, MergeRequestPipelineHasNoCommitBranch) {
  TriggerContext t;
  t.branch = "topic";
  t.source = "merge_request_event";
  t.default_branch = "trunk";
  auto v = predefined_pipeline_variables(t, ".gitlab-ci.yml");
  EXPECT_FALSE(v.contains("CI_COMMIT_BRANCH"));
  EXPECT_EQ(*v.value_of("CI_COMMIT_REF_NAME"), "topic");
  EXPECT_EQ(*v.value_of("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"), "topic");
  EXPECT_EQ(*v.value_of("CI_MERGE_REQUEST_TARGET_BRANCH_NAME"), "trunk");
  EXPECT_TRUE(v.contains("CI_MERGE_REQUEST_IID"));
}

TEST(PredefinedTest, JobVariablesHaveNodeIndexOnlyWhenParallel) {
  auto single = predefined_job_variables("build", "build", 0, 1);
  EXPECT_EQ(*single.value_of("CI_NODE_TOTAL"), "1");
  EXPECT_FALSE(single.contains("CI_NODE_INDEX"));
  auto par = predefined_job_variables("test 2/3", "test", 2, 3);
  EXPECT_EQ(*par.value_of("CI_NODE_INDEX"), "2");
  EXPECT_EQ(*par.value_of("CI_NODE_TOTAL"), "3");
  EXPECT_EQ(*par.value_of("CI_JOB_NAME"), "test 2/3");
  EXPECT_EQ(*par.value_of("CI_JOB_STAGE"), "test");
}

TEST(TriggerTest, ParsesAssignmentsAndSources) {
  auto kv = parse_variable_assignment("A=b=c");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->first, "A");
  EXPECT_EQ(kv->second, "b=c");
  EXPECT_FALSE(parse_variable_assignment("novalue").ok());
  EXPECT_FALSE(parse_variable_assignment("1A=x").ok());
  EXPECT_TRUE(validate_pipeline_source("merge_request_event").ok());
  auto bad = validate_pipeline_source("cron");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("'cron'"), std::string::npos);
}

}  // namespace
}  // namespace gantry::schema
