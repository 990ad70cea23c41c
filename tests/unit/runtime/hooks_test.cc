#include "runtime/hooks.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/file.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime {
namespace {

class HooksTest : public ::testing::Test {
 protected:
  // Writes an executable shell script and returns its path.
  std::string script(const std::string& name, const std::string& body) {
    std::string path = dir_.file(name);
    EXPECT_TRUE(write_file(path, "#!/bin/sh\n" + body + "\n").ok());
    ::chmod(path.c_str(), 0755);
    return path;
  }
  testing::TempDir dir_;
};

TEST_F(HooksTest, HookReadsTheStateOnStdin) {
  std::string out = dir_.file("seen");
  Hook hook{script("h", "cat > '" + out + "'"), {}, {}, std::nullopt};
  ASSERT_TRUE(run_hooks("prestart", {hook}, R"({"id":"c1"})").ok());
  EXPECT_EQ(*read_file(out), R"({"id":"c1"})");
}

TEST_F(HooksTest, PassesArgsAndOnlyTheGivenEnv) {
  std::string out = dir_.file("seen");
  Hook hook{script("h", "echo \"$0|$1|$2|$FOO|$HOME\" > '" + out + "'"),
            {"myhook", "one", "two"}, {"FOO=bar"}, std::nullopt};
  ASSERT_TRUE(run_hooks("poststart", {hook}, "{}").ok());
  // argv[0] is what args[0] says; $0 of a script is its path, so check args 1 and 2 and env.
  std::string seen = *read_file(out);
  EXPECT_NE(seen.find("|one|two|bar|\n"), std::string::npos) << seen;
}

TEST_F(HooksTest, RunsInOrderAndStopsAtTheFirstFailure) {
  std::string log = dir_.file("log");
  std::vector<Hook> hooks = {
      {script("a", "echo a >> '" + log + "'"), {}, {}, std::nullopt},
      {script("b", "echo b >> '" + log + "'; echo 'it broke' >&2; exit 3"), {}, {}, std::nullopt},
      {script("c", "echo c >> '" + log + "'"), {}, {}, std::nullopt},
  };
  auto st = run_hooks("poststop", hooks, "{}");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(),
            "poststop hook[1] '" + dir_.file("b") + "': exited with status 3: it broke");
  EXPECT_EQ(*read_file(log), "a\nb\n");
}

TEST_F(HooksTest, KilledBySignal) {
  Hook hook{script("k", "kill -KILL $$"), {}, {}, std::nullopt};
  auto st = run_hooks("prestart", {hook}, "{}");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(),
            "prestart hook[0] '" + dir_.file("k") + "': killed by signal 9 (Killed)");
}

TEST_F(HooksTest, TimeoutKillsTheHook) {
  // The hook blocks reading a fifo nobody writes: only the timeout can end it.
  std::string fifo = dir_.file("never");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Hook hook{script("slow", "read x < '" + fifo + "'"), {}, {}, 1};
  auto st = run_hooks("createRuntime", {hook}, "{}");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(st.error().message(),
            "createRuntime hook[0] '" + dir_.file("slow") + "': timed out after 1s and was killed");
}

TEST_F(HooksTest, HookThatIgnoresStdinStillSucceeds) {
  Hook hook{script("q", "exit 0"), {}, {}, std::nullopt};
  std::string big(1 << 20, 'x');  // far more than a socket buffer holds
  EXPECT_TRUE(run_hooks("poststart", {hook}, big).ok());
}

TEST_F(HooksTest, MissingProgramIsAnError) {
  Hook hook{dir_.file("absent"), {}, {}, std::nullopt};
  auto st = run_hooks("prestart", {hook}, "{}");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "prestart hook[0] '" + dir_.file("absent") + "': exec hook '" +
                                      dir_.file("absent") + "': no such file or directory");
}

TEST_F(HooksTest, EmptyListIsFine) { EXPECT_TRUE(run_hooks("poststop", {}, "{}").ok()); }

}  // namespace
}  // namespace gantry::runtime

namespace gantry::runtime {
namespace {

TEST_F(HooksTest, WarnAndContinueRunsEveryHook) {
  std::string log = dir_.file("log");
  std::vector<Hook> hooks = {
      {script("a", "echo a >> '" + log + "'; exit 1"), {}, {}, std::nullopt},
      {dir_.file("missing"), {}, {}, std::nullopt},
      {script("c", "echo c >> '" + log + "'"), {}, {}, std::nullopt},
  };
  EXPECT_TRUE(run_hooks("poststop", hooks, "{}", OnHookFailure::kWarnAndContinue).ok());
  EXPECT_EQ(*read_file(log), "a\nc\n");
}

}  // namespace
}  // namespace gantry::runtime
