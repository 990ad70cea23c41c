// Golden tests of `gantry plan`: every tests/testdata/pipelines/plan/NAME.yml is copied into a
// fresh project directory as .gitlab-ci.yml (with NAME.files/ when present, for rules:exists),
// planned with the options in NAME.args (one argument per line, '#' comments) and
// `--format json`, and compared with NAME.expected.json (the plan; exit 0) and/or
// NAME.expected.stderr (diagnostics; exit 1 when they contain an error). The expected files are
// written by hand from GitLab's documentation. GANTRY_UPDATE_GOLDEN=1 rewrites them from the
// current output — review the diff before committing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "common/file.h"
#include "common/json.h"
#include "common/subprocess.h"
#include "tests/support/temp_dir.h"

namespace gantry::schema {
namespace {

const std::string kDir = std::string(GANTRY_SOURCE_DIR) + "/tests/testdata/pipelines/plan";

std::vector<std::string> golden_names() {
  std::vector<std::string> names;
  auto entries = list_dir(kDir);
  if (!entries.ok()) return names;
  for (const auto& e : *entries) {
    if (e.size() > 4 && e.compare(e.size() - 4, 4, ".yml") == 0)
      names.push_back(e.substr(0, e.size() - 4));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> read_args(const std::string& path) {
  std::vector<std::string> args;
  if (!path_exists(path)) return args;
  auto text = read_file(path);
  if (!text.ok()) return args;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    args.push_back(line);
  }
  return args;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

class PlanGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PlanGoldenTest, MatchesExpected) {
  const std::string name = GetParam();
  const std::string base = kDir + "/" + name;
  const bool update = std::getenv("GANTRY_UPDATE_GOLDEN") != nullptr;
  testing::TempDir project("gantry-plan-golden");
  auto yml = read_file(base + ".yml");
  ASSERT_TRUE(yml.ok()) << yml.error().message();
  ASSERT_TRUE(write_file(project.file(".gitlab-ci.yml"), *yml).ok());
  if (is_directory(base + ".files")) {
    auto cp = run_subprocess({"cp", "-R", base + ".files/.", project.path()});
    ASSERT_TRUE(cp.ok() && cp->exit_code == 0) << "copy " << base << ".files";
  }
  std::vector<std::string> argv = {GANTRY_BIN, "plan", "--project-dir", project.path(),
                                   "--format", "json"};
  for (auto& a : read_args(base + ".args")) argv.push_back(a);
  auto run = run_subprocess(argv);
  ASSERT_TRUE(run.ok()) << run.error().message();
  // Diagnostics name files relative to where gantry runs; make them project-relative.
  std::string err = replace_all(run->err, project.path() + "/", "");

  const std::string json_path = base + ".expected.json";
  const std::string err_path = base + ".expected.stderr";
  if (update) {
    if (run->exit_code == 0) {
      auto parsed = parse_json(run->out, "plan output");
      ASSERT_TRUE(parsed.ok()) << parsed.error().message();
      ASSERT_TRUE(write_file(json_path, parsed->dump(1) + "\n").ok());
    }
    if (path_exists(err_path) || run->exit_code != 0) {
      ASSERT_TRUE(write_file(err_path, err).ok());
    }
    return;
  }
  ASSERT_TRUE(path_exists(json_path) || path_exists(err_path))
      << name << ": no " << name << ".expected.json or .expected.stderr";
  if (path_exists(json_path)) {
    EXPECT_EQ(run->exit_code, 0) << name << " stderr:\n" << err;
    auto expected = read_json_file(json_path);
    ASSERT_TRUE(expected.ok()) << expected.error().message();
    auto actual = parse_json(run->out, "plan output");
    ASSERT_TRUE(actual.ok()) << actual.error().message() << "\nstdout:\n" << run->out
                             << "\nstderr:\n" << err;
    EXPECT_EQ(actual->dump(1), expected->dump(1)) << name << " stderr:\n" << err;
  }
  if (path_exists(err_path)) {
    auto expected = read_file(err_path);
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(err, *expected) << name;
    if (expected->find(": error: ") != std::string::npos) {
      EXPECT_EQ(run->exit_code, 1);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Plan, PlanGoldenTest, ::testing::ValuesIn(golden_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace gantry::schema
