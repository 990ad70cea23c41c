// only/except: ref keywords, regexes, ref@project, variables, changes, defaults; and globs.
#include <gtest/gtest.h>

#include "pipeline-schema/glob.h"
#include "pipeline-schema/refs.h"

namespace gantry::schema {
namespace {

const rules_expr::VariableLookup kNoVars = [](std::string_view) -> std::optional<std::string> {
  return std::nullopt;
};

TriggerContext branch(std::string b, std::string source = "push") {
  TriggerContext t;
  t.branch = std::move(b);
  t.source = std::move(source);
  return t;
}

TriggerContext tag(std::string name) {
  TriggerContext t;
  t.tag = std::move(name);
  return t;
}

RefFilter refs(std::initializer_list<const char*> names) {
  RefFilter f;
  for (auto n : names) f.refs.push_back({n, {}, false});
  return f;
}

TEST(RefPatternTest, BranchesAndTagsKeywords) {
  EXPECT_TRUE(ref_pattern_matches("branches", branch("main"), "g/p"));
  EXPECT_FALSE(ref_pattern_matches("tags", branch("main"), "g/p"));
  EXPECT_TRUE(ref_pattern_matches("tags", tag("v1"), "g/p"));
  EXPECT_FALSE(ref_pattern_matches("branches", tag("v1"), "g/p"));
  // A merge request pipeline is not a branch pipeline.
  EXPECT_FALSE(ref_pattern_matches("branches", branch("topic", "merge_request_event"), "g/p"));
}

TEST(RefPatternTest, SourceKeywords) {
  EXPECT_TRUE(ref_pattern_matches("pushes", branch("main"), "g/p"));
  EXPECT_TRUE(ref_pattern_matches("schedules", branch("main", "schedule"), "g/p"));
  EXPECT_TRUE(ref_pattern_matches("web", branch("main", "web"), "g/p"));
  EXPECT_TRUE(ref_pattern_matches("api", branch("main", "api"), "g/p"));
  EXPECT_TRUE(ref_pattern_matches("triggers", branch("main", "trigger"), "g/p"));
  EXPECT_TRUE(ref_pattern_matches("merge_requests", branch("t", "merge_request_event"), "g/p"));
  EXPECT_TRUE(ref_pattern_matches("pipelines", branch("main", "pipeline"), "g/p"));
  EXPECT_TRUE(ref_pattern_matches("external", branch("main", "external"), "g/p"));
  EXPECT_TRUE(ref_pattern_matches("chat", branch("main", "chat"), "g/p"));
  EXPECT_FALSE(ref_pattern_matches("schedules", branch("main"), "g/p"));
}

TEST(RefPatternTest, NamesAndRegexes) {
  EXPECT_TRUE(ref_pattern_matches("main", branch("main"), "g/p"));
  EXPECT_FALSE(ref_pattern_matches("main", branch("main2"), "g/p"));
  EXPECT_TRUE(ref_pattern_matches("/^release-.*$/", branch("release-1.0"), "g/p"));
  EXPECT_FALSE(ref_pattern_matches("/^release-.*$/", branch("Release-1.0"), "g/p"));
  EXPECT_TRUE(ref_pattern_matches("/^release-.*$/i", branch("Release-1.0"), "g/p"));
  EXPECT_TRUE(ref_pattern_matches("/issue/", branch("severe-issues"), "g/p"));
  EXPECT_TRUE(ref_pattern_matches("/^v\\d+/", tag("v12"), "g/p"));
  // Names and regexes never match merge request pipelines.
  EXPECT_FALSE(ref_pattern_matches("topic", branch("topic", "merge_request_event"), "g/p"));
}

TEST(RefPatternTest, ProjectPathIsMatchedLiterally) {
  EXPECT_TRUE(ref_pattern_matches("main@g/p", branch("main"), "g/p"));
  EXPECT_FALSE(ref_pattern_matches("main@g/fork", branch("main"), "g/p"));
  EXPECT_TRUE(ref_pattern_matches("branches@g/p", branch("x"), "g/p"));
}

TEST(OnlyExceptTest, DefaultIsBranchesAndTags) {
  EXPECT_TRUE(only_except_allows(std::nullopt, std::nullopt, branch("main"), "g/p", kNoVars));
  EXPECT_TRUE(only_except_allows(std::nullopt, std::nullopt, tag("v1"), "g/p", kNoVars));
  EXPECT_FALSE(only_except_allows(std::nullopt, std::nullopt,
                                  branch("t", "merge_request_event"), "g/p", kNoVars));
}

TEST(OnlyExceptTest, OnlyNeedsEveryConditionExceptAny) {
  RefFilter only = refs({"main", "/^release/"});
  only.variables.push_back({"$DEPLOY == 'yes'", {}, false});
  auto yes = [](std::string_view n) -> std::optional<std::string> {
    if (n == "DEPLOY") return "yes";
    return std::nullopt;
  };
  EXPECT_TRUE(only_except_allows(only, std::nullopt, branch("main"), "g/p", yes));
  EXPECT_FALSE(only_except_allows(only, std::nullopt, branch("main"), "g/p", kNoVars));
  EXPECT_FALSE(only_except_allows(only, std::nullopt, branch("dev"), "g/p", yes));

  RefFilter except = refs({"schedules"});
  EXPECT_TRUE(only_except_allows(std::nullopt, except, branch("main"), "g/p", kNoVars));
  EXPECT_FALSE(
      only_except_allows(std::nullopt, except, branch("main", "schedule"), "g/p", kNoVars));
  RefFilter except_vars;
  except_vars.variables.push_back({"$DEPLOY", {}, false});
  EXPECT_FALSE(only_except_allows(std::nullopt, except_vars, branch("x"), "g/p", yes));
}

TEST(OnlyExceptTest, ChangesAreTrueWithoutAPushContext) {
  RefFilter only;
  only.changes = Changes{{"src/**/*.cc", "Dockerfile"}, std::nullopt, {}};
  TriggerContext t = branch("main");
  EXPECT_TRUE(only_except_allows(only, std::nullopt, t, "g/p", kNoVars));
  t.changed_files = std::vector<std::string>{"README.md"};
  EXPECT_FALSE(only_except_allows(only, std::nullopt, t, "g/p", kNoVars));
  t.changed_files = std::vector<std::string>{"src/a/b/c.cc"};
  EXPECT_TRUE(only_except_allows(only, std::nullopt, t, "g/p", kNoVars));
}

TEST(ExistsTest, MatchesProjectFiles) {
  TriggerContext t;
  t.project_files = {"Dockerfile", "docs/index.md", ".hidden/x.yml"};
  EXPECT_TRUE(exists_match(Exists{{"Dockerfile"}, {}, {}, {}}, t));
  EXPECT_TRUE(exists_match(Exists{{"**/*.md"}, {}, {}, {}}, t));
  EXPECT_TRUE(exists_match(Exists{{".hidden/*.yml"}, {}, {}, {}}, t));
  EXPECT_FALSE(exists_match(Exists{{"*.md"}, {}, {}, {}}, t));
}

TEST(GlobTest, SegmentsStarsAndBraces) {
  EXPECT_TRUE(glob_match("*.md", "README.md"));
  EXPECT_FALSE(glob_match("*.md", "docs/README.md"));
  EXPECT_TRUE(glob_match("docs/*", "docs/a"));
  EXPECT_TRUE(glob_match("**/*.md", "README.md"));
  EXPECT_TRUE(glob_match("**/*.md", "a/b/c.md"));
  EXPECT_TRUE(glob_match("src/**/*.{cc,h}", "src/x/y.h"));
  EXPECT_FALSE(glob_match("src/**/*.{cc,h}", "src/x/y.py"));
  EXPECT_TRUE(glob_match("file?.txt", "file1.txt"));
  EXPECT_FALSE(glob_match("file?.txt", "file12.txt"));
  EXPECT_TRUE(glob_match("[a-c]*.txt", "b.txt"));
  EXPECT_FALSE(glob_match("[!a-c]*.txt", "b.txt"));
  EXPECT_TRUE(glob_match("./Dockerfile", "Dockerfile"));
  EXPECT_TRUE(glob_match("*", ".env"));  // FNM_DOTMATCH
}

}  // namespace
}  // namespace gantry::schema
