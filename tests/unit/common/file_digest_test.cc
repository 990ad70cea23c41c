#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/digest.h"
#include "common/file.h"
#include "common/json.h"
#include "common/scratch_file.h"
#include "common/subprocess.h"
#include "tests/support/temp_dir.h"

namespace gantry {
namespace {

using testing::TempDir;

TEST(FileTest, AtomicWriteReplacesContentAndLeavesNoTempFiles) {
  TempDir dir;
  std::string p = dir.file("state.json");
  ASSERT_TRUE(write_file_atomic(p, "one").ok());
  ASSERT_TRUE(write_file_atomic(p, "two", 0600).ok());
  EXPECT_EQ(*read_file(p), "two");
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*list_dir(dir.path()), std::vector<std::string>{"state.json"});
}

TEST(FileTest, ScratchAtomicWriteReplacesContentWithMode) {
  TempDir dir;
  std::string p = dir.file("config.json");
  ASSERT_TRUE(write_scratch_file(p, "one", 0644).ok());
  ASSERT_TRUE(write_scratch_file(p, "two", 0755).ok());
  EXPECT_EQ(*read_file(p), "two");
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_EQ(*list_dir(dir.path()), std::vector<std::string>{"config.json"});
  auto missing = write_scratch_file(dir.file("no/such/dir/f"), "x", 0644);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("no/such/dir/f"), std::string::npos);
}

TEST(FileTest, ErrorsNameThePath) {
  auto r = read_file("/nonexistent/file");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "open '/nonexistent/file': no such file or directory");
}

TEST(FileTest, MakeDirsAndRemoveAll) {
  TempDir dir;
  std::string deep = dir.file("a/b/c");
  ASSERT_TRUE(make_dirs(deep).ok());
  ASSERT_TRUE(write_file(deep + "/f", "x").ok());
  ASSERT_TRUE(::symlink("/etc", (dir.file("a/link")).c_str()) == 0);
  ASSERT_TRUE(remove_all(dir.file("a")).ok());
  EXPECT_FALSE(path_exists(dir.file("a")));
  EXPECT_TRUE(path_exists("/etc/hostname") || path_exists("/etc/passwd"));  // link not followed
}

TEST(FileTest, JoinPath) {
  EXPECT_EQ(join_path("/a/", "/b"), "/a/b");
  EXPECT_EQ(join_path("/", "etc"), "/etc");
  EXPECT_EQ(join_path("a", ""), "a");
}

TEST(DigestTest, Sha256KnownVectorsAndStreaming) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.finish_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DigestTest, ParseDigestValidates) {
  auto d = parse_digest("sha256:" + std::string(64, 'a'));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->hex, std::string(64, 'a'));
  EXPECT_FALSE(parse_digest("sha256:ABC").ok());
  EXPECT_EQ(parse_digest("md5:" + std::string(32, 'a')).error().code(),
            ErrorCode::kUnimplemented);
  EXPECT_FALSE(parse_digest("nodigest").ok());
}

TEST(JsonTest, ParseErrorsNameTheSourceAndPosition) {
  auto r = parse_json("{\"a\": }", "config.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("parse config.json: "), std::string::npos);
  EXPECT_NE(r.error().message().find("line 1, column 7"), std::string::npos);
}

TEST(SubprocessTest, CapturesOutputExitCodeAndStdin) {
  auto r = run_subprocess({"sh", "-c", "cat; echo err >&2; exit 3"}, {.stdin_data = "hello"});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->out, "hello");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_code, 3);
}

TEST(SubprocessTest, TimeoutKillsTheChild) {
  auto r = run_subprocess({"sleep", "30"}, {.timeout = std::chrono::milliseconds(100)});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->term_signal, SIGKILL);
}

TEST(SubprocessTest, MissingProgramIsAnError) {
  auto r = run_subprocess({"no-such-program-gantry"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace gantry
