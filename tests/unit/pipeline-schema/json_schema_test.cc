// The shipped JSON Schema (pipeline-schema/gantry-ci.schema.json) must stay in step with the
// keyword table the linter uses: every keyword Gantry knows appears in the schema and the
// schema names no keyword the linter would reject.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/json.h"
#include "pipeline-schema/keywords/keyword_table.h"

namespace gantry::schema {
namespace {

Json load_schema() {
  auto j =
      read_json_file(std::string(GANTRY_SOURCE_DIR) + "/pipeline-schema/gantry-ci.schema.json");
  EXPECT_TRUE(j.ok()) << (j.ok() ? "" : j.error().message());
  return j.ok() ? *j : Json::object();
}

std::set<std::string> keys_of(const Json& object_schema) {
  std::set<std::string> out;
  for (const auto& [k, _] : object_schema.at("properties").items()) out.insert(k);
  return out;
}

std::set<std::string> table(std::string_view context) {
  std::set<std::string> out;
  for (const auto& k : keywords::keywords_for(context)) out.emplace(k.name);
  return out;
}

// The object alternative of a oneOf (string-or-map keywords such as image).
const Json& object_form(const Json& s) {
  if (s.contains("oneOf")) {
    for (const auto& alt : s.at("oneOf"))
      if (alt.value("type", "") == "object") return alt;
  }
  return s;
}

TEST(JsonSchemaTest, MatchesTheKeywordTable) {
  Json schema = load_schema();
  const Json& defs = schema.at("definitions");
  EXPECT_EQ(keys_of(schema), table("global"));
  EXPECT_EQ(keys_of(defs.at("job")), table("job"));
  EXPECT_EQ(keys_of(defs.at("default")), table("default"));
  EXPECT_EQ(keys_of(defs.at("artifacts")), table("artifacts"));
  EXPECT_EQ(keys_of(object_form(defs.at("image"))), table("image"));
  EXPECT_EQ(keys_of(object_form(defs.at("environment"))), table("environment"));
  EXPECT_EQ(keys_of(defs.at("rule")), table("rules"));
  EXPECT_EQ(keys_of(defs.at("workflowRule")), table("workflow:rules"));
  EXPECT_EQ(keys_of(defs.at("inherit")), table("inherit"));
  EXPECT_EQ(keys_of(object_form(defs.at("retry"))), table("retry"));
  EXPECT_EQ(keys_of(object_form(defs.at("refFilter"))), table("only"));
}

TEST(JsonSchemaTest, HiddenJobsAreFreeForm) {
  Json schema = load_schema();
  ASSERT_TRUE(schema.contains("patternProperties"));
  EXPECT_TRUE(schema.at("patternProperties").contains("^\\."));
}

}  // namespace
}  // namespace gantry::schema
