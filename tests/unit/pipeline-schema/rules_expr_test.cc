// The CI/CD variable expression language: lexing, precedence, GitLab's null/empty/undefined
// semantics, regexes with flags, and syntax errors with columns.
#include <gtest/gtest.h>

#include <map>

#include "pipeline-schema/rules_expr/eval.h"
#include "pipeline-schema/rules_expr/parser.h"

namespace gantry::schema::rules_expr {
namespace {

class RulesExprTest : public ::testing::Test {
 protected:
  std::map<std::string, std::string, std::less<>> vars_ = {
      {"BRANCH", "main"},       {"EMPTY", ""},          {"BLANK", "   "},
      {"FEATURE", "feature/x"}, {"RE", "/^feat/"},      {"RE_I", "/^FEAT/i"},
      {"PLAIN", "feature/xyz"}, {"ONE", "1"},           {"OTHER_MAIN", "main"},
  };

  bool eval(std::string_view text) {
    auto parsed = parse(text);
    if (auto* err = std::get_if<SyntaxError>(&parsed)) {
      ADD_FAILURE() << "parse '" << text << "': column " << err->column << ": " << err->message;
      return false;
    }
    return evaluate(std::get<Expression>(parsed), [&](std::string_view name)
                                                       -> std::optional<std::string> {
      auto it = vars_.find(name);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    });
  }

  SyntaxError error_of(std::string_view text) {
    auto parsed = parse(text);
    if (auto* err = std::get_if<SyntaxError>(&parsed)) return *err;
    ADD_FAILURE() << "'" << text << "' parsed but should not";
    return {0, ""};
  }
};

TEST_F(RulesExprTest, ComparesVariablesWithStringsInEitherQuotes) {
  EXPECT_TRUE(eval("$BRANCH == \"main\""));
  EXPECT_TRUE(eval("$BRANCH == 'main'"));
  EXPECT_TRUE(eval("'main' == $BRANCH"));
  EXPECT_FALSE(eval("$BRANCH == 'Main'"));
  EXPECT_TRUE(eval("$BRANCH != 'dev'"));
  EXPECT_FALSE(eval("$BRANCH != 'main'"));
  EXPECT_TRUE(eval("$BRANCH == $OTHER_MAIN"));
}

TEST_F(RulesExprTest, StringsHaveNoEscapesAndEndAtTheFirstMatchingQuote) {
  vars_["Q"] = "a\\b";
  EXPECT_TRUE(eval("$Q == 'a\\b'"));
  vars_["Q"] = "it's";
  EXPECT_TRUE(eval("$Q == \"it's\""));
}

TEST_F(RulesExprTest, NullEmptyAndUndefinedAreDistinct) {
  EXPECT_TRUE(eval("$UNDEFINED == null"));
  EXPECT_FALSE(eval("$UNDEFINED == ''"));
  EXPECT_FALSE(eval("$UNDEFINED"));
  EXPECT_FALSE(eval("$EMPTY == null"));
  EXPECT_TRUE(eval("$EMPTY == ''"));
  EXPECT_TRUE(eval("$EMPTY != null"));
  EXPECT_FALSE(eval("$EMPTY"));
  EXPECT_FALSE(eval("$BLANK"));
  EXPECT_TRUE(eval("$BRANCH"));
  EXPECT_TRUE(eval("$UNDEFINED != 'x'"));
  EXPECT_TRUE(eval("null == null"));
}

TEST_F(RulesExprTest, AndOrFollowRubyTruthinessLikeGitLab) {
  // GitLab returns operands from && and ||; "" is truthy in Ruby but not "present".
  EXPECT_TRUE(eval("$EMPTY && $BRANCH == 'main'"));
  EXPECT_FALSE(eval("$EMPTY || $UNDEFINED"));
  EXPECT_FALSE(eval("$EMPTY || $BRANCH == 'main'"));
  EXPECT_TRUE(eval("$UNDEFINED || $BRANCH == 'main'"));
  EXPECT_FALSE(eval("$UNDEFINED && $BRANCH == 'main'"));
  EXPECT_TRUE(eval("$BRANCH && $ONE"));
}

TEST_F(RulesExprTest, AndBindsTighterThanOr) {
  // false && false || true  == (false && false) || true
  EXPECT_TRUE(eval("$BRANCH == 'x' && $ONE == '2' || $ONE == '1'"));
  // true || false && false  == true || (false && false)
  EXPECT_TRUE(eval("$ONE == '1' || $BRANCH == 'x' && $ONE == '2'"));
  EXPECT_FALSE(eval("($ONE == '1' || $BRANCH == 'x') && $ONE == '2'"));
  EXPECT_TRUE(eval("(($ONE == '1'))"));
}

TEST_F(RulesExprTest, ComparisonsBindTighterThanAnd) {
  EXPECT_TRUE(eval("$BRANCH == 'main' && $ONE != '2'"));
  EXPECT_FALSE(eval("$BRANCH == 'main' && $ONE != '1'"));
}

TEST_F(RulesExprTest, RegexMatchIsUnanchoredAndCaseSensitiveByDefault) {
  EXPECT_TRUE(eval("$FEATURE =~ /^feature/"));
  EXPECT_TRUE(eval("$FEATURE =~ /ture/"));
  EXPECT_FALSE(eval("$FEATURE =~ /^FEATURE/"));
  EXPECT_TRUE(eval("$FEATURE =~ /^FEATURE/i"));
  EXPECT_TRUE(eval("$FEATURE !~ /^release/"));
  EXPECT_FALSE(eval("$FEATURE !~ /^feature/"));
}

TEST_F(RulesExprTest, RegexEscapedSlashStandsForSlash) {
  EXPECT_TRUE(eval("$FEATURE =~ /^feature\\/x$/"));
}

TEST_F(RulesExprTest, RegexAgainstUndefinedMatchesTheEmptyString) {
  EXPECT_FALSE(eval("$UNDEFINED =~ /./"));
  EXPECT_TRUE(eval("$UNDEFINED =~ /^$/"));
  EXPECT_TRUE(eval("$UNDEFINED !~ /./"));
}

TEST_F(RulesExprTest, RegexFromAVariableOnTheRight) {
  EXPECT_TRUE(eval("$FEATURE =~ $RE"));
  EXPECT_TRUE(eval("$FEATURE =~ $RE_I"));
  EXPECT_FALSE(eval("$BRANCH =~ $RE"));
  EXPECT_TRUE(eval("$BRANCH !~ $RE"));
  // A null pattern never matches; !~ against null is true.
  EXPECT_FALSE(eval("$BRANCH =~ $UNDEFINED"));
  EXPECT_TRUE(eval("$BRANCH !~ $UNDEFINED"));
}

TEST_F(RulesExprTest, NonRegexStringOnTheRightIsASubstringSearch) {
  vars_["SHORT"] = "feature";
  EXPECT_TRUE(eval("$SHORT =~ $PLAIN"));
  EXPECT_FALSE(eval("$PLAIN =~ $SHORT"));
}

TEST_F(RulesExprTest, ListsVariableNamesOnce) {
  auto parsed = parse("$A == $B || ($A && $C =~ /x/)");
  ASSERT_TRUE(std::holds_alternative<Expression>(parsed));
  EXPECT_EQ(std::get<Expression>(parsed).variable_names(),
            (std::vector<std::string>{"A", "B", "C"}));
}

TEST_F(RulesExprTest, ErrorsCarryTheColumn) {
  auto e = error_of("$A == ");
  EXPECT_EQ(e.column, 7);
  EXPECT_NE(e.message.find("end of expression"), std::string::npos);

  e = error_of("$A = 'x'");
  EXPECT_EQ(e.column, 4);
  EXPECT_NE(e.message.find("'=='"), std::string::npos) << e.message;

  e = error_of("$A == 'x");
  EXPECT_EQ(e.column, 7);
  EXPECT_NE(e.message.find("unterminated string"), std::string::npos);

  e = error_of("($A == 'x'");
  EXPECT_EQ(e.column, 11);
  EXPECT_NE(e.message.find("missing ')'"), std::string::npos);

  e = error_of("$A == 'x')");
  EXPECT_EQ(e.column, 10);
  EXPECT_NE(e.message.find("unbalanced"), std::string::npos);

  e = error_of("$A 'x'");
  EXPECT_EQ(e.column, 4);
  EXPECT_NE(e.message.find("expected an operator"), std::string::npos);

  e = error_of("${A} == 'x'");
  EXPECT_EQ(e.column, 1);

  e = error_of("$A == main");
  EXPECT_EQ(e.column, 7);
  EXPECT_NE(e.message.find("quote"), std::string::npos);

  e = error_of("$A =~ /(/");
  EXPECT_EQ(e.column, 7);
  EXPECT_NE(e.message.find("regular expression"), std::string::npos);

  e = error_of("$A =~ /x/q");
  EXPECT_EQ(e.column, 7);

  e = error_of("&& $A");
  EXPECT_EQ(e.column, 1);

  e = error_of("   ");
  EXPECT_EQ(e.column, 1);

  e = error_of("$A =~ /abc");
  EXPECT_EQ(e.column, 7);
}

TEST_F(RulesExprTest, RefusesTooManyTokens) {
  std::string text = "$A";
  for (int i = 0; i < 60; ++i) text += " || $A";
  auto e = error_of(text);
  EXPECT_NE(e.message.find("more than 100 tokens"), std::string::npos);
}

TEST_F(RulesExprTest, NullKeywordNeedsAWordBoundary) {
  vars_["nullable"] = "x";
  auto e = error_of("nullx == $A");
  EXPECT_EQ(e.column, 1);
}

}  // namespace
}  // namespace gantry::schema::rules_expr
