// The loader must survive any input: every golden pipeline is mutated many times (bytes
// dropped, duplicated, replaced by YAML punctuation, lines swapped) with a fixed seed, and each
// mutant must load to a result, with every diagnostic carrying a location in a known file.
// A deterministic stand-in for the fuzz target until the build has a libFuzzer toolchain.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "common/file.h"
#include "pipeline-schema/load.h"

namespace gantry::schema {
namespace {

const std::string kDir = std::string(GANTRY_SOURCE_DIR) + "/tests/testdata/pipelines/lint";

std::string mutate(const std::string& in, std::mt19937& rng) {
  std::string s = in;
  static const char kPunct[] = ":-[]{}&*!|>'\"#,? \n\t<";
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    std::size_t at = rng() % s.size();
    switch (rng() % 4) {
      case 0:
        s.erase(at, 1 + rng() % 8);
        break;
      case 1:
        s.insert(at, s.substr(at, 1 + rng() % 16));
        break;
      case 2:
        s[at] = kPunct[rng() % (sizeof(kPunct) - 1)];
        break;
      default: {
        std::size_t nl = s.find('\n', at);
        std::size_t nl2 = nl == std::string::npos ? nl : s.find('\n', nl + 1);
        if (nl2 != std::string::npos) {
          std::string line = s.substr(nl + 1, nl2 - nl);
          s.erase(nl + 1, nl2 - nl);
          s.insert(rng() % (s.size() + 1), line);
        }
      }
    }
  }
  return s;
}

TEST(RobustnessTest, MutatedPipelinesAlwaysLoad) {
  DiskProjectFiles files(kDir);
  auto names = list_dir(kDir);
  ASSERT_TRUE(names.ok());
  std::mt19937 rng(20240229);
  int mutants = 0;
  for (const auto& name : *names) {
    if (name.size() < 5 || name.substr(name.size() - 4) != ".yml") continue;
    auto text = read_file(kDir + "/" + name);
    ASSERT_TRUE(text.ok());
    for (int i = 0; i < 150; ++i) {
      std::string m = mutate(*text, rng);
      auto loaded = load_pipeline_text(m, name, files);
      ++mutants;
      for (const auto& d : loaded.diagnostics.all()) {
        ASSERT_FALSE(d.loc.file.empty()) << d.message;
        ASSERT_FALSE(d.message.empty());
      }
    }
  }
  EXPECT_GT(mutants, 1000);
}

}  // namespace
}  // namespace gantry::schema
