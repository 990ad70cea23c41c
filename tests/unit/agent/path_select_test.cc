// Artifact/cache path selection against the examples of GitLab's `artifacts:` documentation.
#include <gtest/gtest.h>

#include "agent/path_select.h"

namespace gantry::agent {
namespace {

const std::vector<WorkspaceEntry> kTree = {
    {"README.md", false},
    {"binaries", true},
    {"binaries/app", false},
    {"binaries/app.o", false},
    {"binaries/lib", true},
    {"binaries/lib/x.o", false},
    {"binaries/lib/x.so", false},
    {"binaries-old", true},
    {"binaries-old/app", false},
    {"docs", true},
    {"docs/a.txt", false},
    {"docs/deep", true},
    {"docs/deep/b.txt", false},
    {"notes.txt", false},
};

std::vector<std::string> pick(const std::vector<std::string>& paths,
                              const std::vector<std::string>& exclude = {}) {
  return select_paths(kTree, paths, exclude, false, {}, "/builds/app").paths;
}

TEST(PathSelectTest, DirectoryIsTakenRecursively) {
  EXPECT_EQ(pick({"binaries/"}),
            (std::vector<std::string>{"binaries", "binaries/app", "binaries/app.o", "binaries/lib",
                                      "binaries/lib/x.o", "binaries/lib/x.so"}));
}

TEST(PathSelectTest, SingleStarStaysInOneDirectory) {
  EXPECT_EQ(pick({"*.txt"}), (std::vector<std::string>{"notes.txt"}));
  EXPECT_EQ(pick({"docs/*.txt"}), (std::vector<std::string>{"docs/a.txt"}));
}

TEST(PathSelectTest, DoubleStarSpansDirectories) {
  EXPECT_EQ(pick({"**/*.txt"}),
            (std::vector<std::string>{"docs/a.txt", "docs/deep/b.txt", "notes.txt"}));
  EXPECT_EQ(pick({"binaries/**/*.so"}), (std::vector<std::string>{"binaries/lib/x.so"}));
}

TEST(PathSelectTest, ExcludeDropsMatchedFilesOnly) {
  // GitLab's example: all of binaries/ but not the .o files.
  EXPECT_EQ(pick({"binaries/"}, {"binaries/**/*.o"}),
            (std::vector<std::string>{"binaries", "binaries/app", "binaries/lib",
                                      "binaries/lib/x.so"}));
  // Exclude is not recursive: naming a directory drops only that entry, not its contents.
  EXPECT_EQ(pick({"docs"}, {"docs/deep"}),
            (std::vector<std::string>{"docs", "docs/a.txt", "docs/deep/b.txt"}));
  EXPECT_EQ(pick({"docs"}, {"docs/deep/**/*", "docs/deep"}),
            (std::vector<std::string>{"docs", "docs/a.txt"}));
}

TEST(PathSelectTest, BracesAndClasses) {
  EXPECT_EQ(pick({"{README.md,notes.txt}"}), (std::vector<std::string>{"README.md", "notes.txt"}));
  EXPECT_EQ(pick({"binaries/lib/x.[s]o"}), (std::vector<std::string>{"binaries/lib/x.so"}));
}

TEST(PathSelectTest, NoMatchIsAWarningNamingThePath) {
  auto sel = select_paths(kTree, {"dist/", "notes.txt"}, {}, false, {}, "/builds/app");
  EXPECT_EQ(sel.paths, (std::vector<std::string>{"notes.txt"}));
  ASSERT_EQ(sel.warnings.size(), 1u);
  EXPECT_EQ(sel.warnings[0],
            "dist/: no matching files. Ensure that the artifact path is relative to the working "
            "directory (/builds/app)");
}

TEST(PathSelectTest, PathsLeavingTheProjectAreRefused) {
  auto sel = select_paths(kTree, {"../secrets", "/etc/passwd", "docs/../../x"}, {}, false, {},
                          "/builds/app");
  EXPECT_TRUE(sel.paths.empty());
  ASSERT_EQ(sel.warnings.size(), 3u);
  EXPECT_NE(sel.warnings[0].find("not a subpath of project directory"), std::string::npos);
}

TEST(PathSelectTest, NormalizesDotsAndAbsolutePathsInside) {
  EXPECT_EQ(normalize_artifact_pattern("./docs//deep/", "/builds/app"), "docs/deep");
  EXPECT_EQ(normalize_artifact_pattern("docs/../notes.txt", "/builds/app"), "notes.txt");
  EXPECT_EQ(normalize_artifact_pattern("/builds/app/docs", "/builds/app"), "docs");
  EXPECT_EQ(normalize_artifact_pattern("/builds/application", "/builds/app"), std::nullopt);
  EXPECT_EQ(pick({"."}).size(), kTree.size());
}

TEST(PathSelectTest, UntrackedAddsGitsUntrackedFiles) {
  auto sel = select_paths(kTree, {}, {"*.md"}, true, {"README.md", "notes.txt"}, "/builds/app");
  EXPECT_EQ(sel.paths, (std::vector<std::string>{"notes.txt"}));
}

}  // namespace
}  // namespace gantry::agent
