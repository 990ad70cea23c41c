#include "pipeline-schema/yaml_loader.h"

#include <gtest/gtest.h>

namespace gantry::schema {
namespace {

Node parse_ok(std::string_view text) {
  Diagnostics d;
  auto n = parse_yaml(text, "p.yml", d);
  EXPECT_TRUE(n.has_value()) << d.render();
  EXPECT_FALSE(d.has_errors()) << d.render();
  return n.value_or(Node());
}

TEST(YamlLoaderTest, KeepsLineColumnOfKeysAndValues) {
  Node root = parse_ok("stages:\n  - build\njob:\n  script: [\"make\"]\n");
  ASSERT_TRUE(root.is_map());
  ASSERT_EQ(root.entries().size(), 2u);
  EXPECT_EQ(root.entries()[1].key, "job");
  EXPECT_EQ(root.entries()[1].key_loc.line, 3);
  EXPECT_EQ(root.entries()[1].key_loc.column, 1);
  const Node* script = root.find("job")->find("script");
  ASSERT_NE(script, nullptr);
  ASSERT_TRUE(script->is_sequence());
  EXPECT_EQ(script->items()[0].text(), "make");
  EXPECT_EQ(script->items()[0].loc().str(), "p.yml:4:12");
  EXPECT_EQ(script->items()[0].style(), ScalarStyle::kQuoted);
}

TEST(YamlLoaderTest, KeepsMapKeyOrder) {
  Node root = parse_ok("z: 1\na: 2\nm: 3\n");
  ASSERT_EQ(root.entries().size(), 3u);
  EXPECT_EQ(root.entries()[0].key, "z");
  EXPECT_EQ(root.entries()[1].key, "a");
  EXPECT_EQ(root.entries()[2].key, "m");
}

TEST(YamlLoaderTest, ReadsYaml11ScalarsLikeGitLab) {
  Node root = parse_ok("a: yes\nb: 'yes'\nc: 12\nd: ~\ne: 1.5\nf: off\ng: x\n");
  EXPECT_EQ(root.find("a")->as_bool(), true);
  EXPECT_EQ(root.find("b")->scalar_type(), ScalarType::kString);
  EXPECT_EQ(root.find("c")->as_int(), 12);
  EXPECT_TRUE(root.find("d")->is_null());
  EXPECT_EQ(root.find("e")->scalar_type(), ScalarType::kFloat);
  EXPECT_EQ(root.find("f")->as_bool(), false);
  EXPECT_EQ(root.find("g")->type_name(), "a string");
}

TEST(YamlLoaderTest, ResolvesAnchorsAndAliases) {
  Node root = parse_ok(".tmpl: &t\n  image: alpine\njob:\n  x: *t\n");
  const Node* x = root.find("job")->find("x");
  ASSERT_TRUE(x->is_map());
  EXPECT_EQ(x->find("image")->text(), "alpine");
  EXPECT_EQ(x->loc().line, 4);  // the alias site
}

TEST(YamlLoaderTest, AppliesMergeKeysWithOwnKeysWinning) {
  Node root = parse_ok(
      ".a: &a\n  image: alpine\n  stage: build\n"
      ".b: &b\n  stage: deploy\n  tags: [x]\n"
      "job:\n  stage: test\n  <<: [*a, *b]\n  script: echo\n");
  const Node* job = root.find("job");
  ASSERT_TRUE(job->is_map());
  EXPECT_FALSE(job->has("<<"));
  EXPECT_EQ(job->find("stage")->text(), "test");     // own key wins even written earlier
  EXPECT_EQ(job->find("image")->text(), "alpine");   // from the first merged map
  ASSERT_TRUE(job->find("tags")->is_sequence());     // from the second
  std::vector<std::string> keys;
  for (const auto& e : job->entries()) keys.push_back(e.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"stage", "image", "tags", "script"}));
}

TEST(YamlLoaderTest, FirstMergedMapWinsOverLaterOnes) {
  Node root = parse_ok(".a: &a {stage: build}\n.b: &b {stage: deploy}\njob:\n  <<: [*a, *b]\n");
  EXPECT_EQ(root.find("job")->find("stage")->text(), "build");
}

TEST(YamlLoaderTest, KeepsReferenceTag) {
  Node root = parse_ok("job:\n  script:\n    - !reference [.setup, script]\n");
  const Node& ref = root.find("job")->find("script")->items()[0];
  EXPECT_EQ(ref.tag(), "!reference");
  ASSERT_TRUE(ref.is_sequence());
  EXPECT_EQ(ref.items()[1].text(), "script");
}

TEST(YamlLoaderTest, SyntaxErrorIsADiagnosticWithLineAndColumn) {
  Diagnostics d;
  auto n = parse_yaml("job:\n  script: [a, b\n", "p.yml", d);
  EXPECT_FALSE(n.has_value());
  ASSERT_EQ(d.error_count(), 1u);
  EXPECT_EQ(d.all()[0].loc.file, "p.yml");
  EXPECT_GT(d.all()[0].loc.line, 0);
  EXPECT_NE(d.all()[0].message.find("yaml syntax error"), std::string::npos);
}

TEST(YamlLoaderTest, UndefinedAliasIsAnError) {
  Diagnostics d;
  EXPECT_FALSE(parse_yaml("a: *nope\n", "p.yml", d).has_value());
  EXPECT_TRUE(d.has_errors());
}

TEST(YamlLoaderTest, DuplicateKeyKeepsTheLastWithAWarning) {
  Diagnostics d;
  auto n = parse_yaml("a: 1\nb: 2\na: 3\n", "p.yml", d);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->find("a")->text(), "3");
  ASSERT_EQ(d.warning_count(), 1u);
  EXPECT_EQ(d.render(),
            "p.yml:3:1: warning: duplicate key 'a' (first at line 1); the later value is used\n");
}

TEST(YamlLoaderTest, BadMergeValueIsAnError) {
  Diagnostics d;
  auto n = parse_yaml("job:\n  <<: 5\n", "p.yml", d);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(d.render(),
            "p.yml:2:7: error: a '<<' merge key takes a map or a list of maps, not an integer\n");
}

TEST(YamlLoaderTest, AliasExplosionIsBounded) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 7; ++i) {
    std::string p = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + p + "," + p + "," + p +
            "," + p + "," + p + "," + p + "," + p + "," + p + "," + p + "," + p + "]\n";
  }
  Diagnostics d;
  EXPECT_FALSE(parse_yaml(text, "p.yml", d).has_value());
  EXPECT_NE(d.render().find("document too large"), std::string::npos);
}

TEST(YamlLoaderTest, EmptyTextIsNull) {
  EXPECT_TRUE(parse_ok("").is_null());
}

TEST(YamlLoaderTest, SkipsSpecHeaderDocumentWithWarning) {
  Diagnostics d;
  auto n = parse_yaml("spec:\n  inputs: {}\n---\njob:\n  script: x\n", "p.yml", d);
  ASSERT_TRUE(n.has_value());
  EXPECT_TRUE(n->has("job"));
  EXPECT_EQ(d.warning_count(), 1u);
}

TEST(NodeTest, DeepMergeMergesMapsAndReplacesLists) {
  Node base = parse_ok("variables: {A: 1, B: 2}\nscript: [a, b]\nimage: x\n");
  Node over = parse_ok("variables: {B: 3, C: 4}\nscript: [c]\n");
  Node m = deep_merge(base, over);
  EXPECT_EQ(m.find("variables")->find("A")->text(), "1");
  EXPECT_EQ(m.find("variables")->find("B")->text(), "3");
  EXPECT_EQ(m.find("variables")->find("C")->text(), "4");
  ASSERT_EQ(m.find("script")->items().size(), 1u);
  EXPECT_EQ(m.find("script")->items()[0].text(), "c");
  EXPECT_EQ(m.find("image")->text(), "x");
}

}  // namespace
}  // namespace gantry::schema

namespace gantry::schema {
namespace {

TEST(YamlLoaderTest, StrayFlowCommaIsAnErrorNotAHang) {
  // yaml-cpp 0.7 reports empty documents forever for this input; the loader must stop.
  Diagnostics d;
  EXPECT_FALSE(parse_yaml(", x\n", "p.yml", d).has_value());
  ASSERT_EQ(d.error_count(), 1u);
  EXPECT_EQ(d.all()[0].loc.str(), "p.yml:1:1");
}

}  // namespace
}  // namespace gantry::schema
