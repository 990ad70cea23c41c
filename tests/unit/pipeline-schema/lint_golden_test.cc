// Golden tests for `gantry lint`: every tests/testdata/pipelines/lint/NAME.yml is loaded with
// that directory as the project root, and its diagnostics must equal NAME.expected exactly.
// The expected files were written by hand from GitLab's CI/CD YAML reference;
// GANTRY_UPDATE_GOLDEN=1 rewrites them from the current output (review the diff!).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "common/file.h"
#include "pipeline-schema/load.h"

namespace gantry::schema {
namespace {

const std::string kDir = std::string(GANTRY_SOURCE_DIR) + "/tests/testdata/pipelines/lint";

std::vector<std::string> golden_cases() {
  std::vector<std::string> out;
  auto entries = list_dir(kDir);
  if (!entries.ok()) return out;
  for (const auto& name : *entries) {
    if (name.size() > 4 && name.substr(name.size() - 4) == ".yml") {
      out.push_back(name.substr(0, name.size() - 4));
    }
  }
  return out;
}

class LintGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(LintGoldenTest, DiagnosticsMatchExpected) {
  const std::string name = GetParam();
  DiskProjectFiles files(kDir);
  auto loaded = load_pipeline(files, name + ".yml", kDir);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  std::string actual = loaded->diagnostics.render();
  std::string expected_path = kDir + "/" + name + ".expected";
  const char* update = std::getenv("GANTRY_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    ASSERT_TRUE(write_file_atomic(expected_path, actual).ok());
    return;
  }
  auto expected = read_file(expected_path);
  ASSERT_TRUE(expected.ok()) << "missing " << expected_path;
  EXPECT_EQ(actual, *expected) << "for " << name << ".yml";
}

INSTANTIATE_TEST_SUITE_P(Lint, LintGoldenTest, ::testing::ValuesIn(golden_cases()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(LintGoldenSetTest, HasCases) { EXPECT_GE(golden_cases().size(), 10u); }

}  // namespace
}  // namespace gantry::schema
