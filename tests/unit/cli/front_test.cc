// The `gantry` front (cli/front/): the runtime's commands answered in the small static
// executable, `gantry-runtime` as the runtime under its own name, and every other command
// handed to gantry-cli with its arguments and exit code intact; called `gantry-init`, the init
// reaper that other runtimes' containers get.
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "common/file.h"
#include "common/subprocess.h"
#include "tests/support/temp_dir.h"

namespace gantry {
namespace {

std::string bin_dir() {
  std::string bin = GANTRY_BIN;
  return bin.substr(0, bin.rfind('/'));
}

SubprocessResult run(const std::vector<std::string>& argv) {
  auto r = run_subprocess(argv);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? *r : SubprocessResult{};
}

TEST(FrontTest, OtherCommandsRunInTheFullCommandSet) {
  auto version = run({GANTRY_BIN, "version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
  EXPECT_TRUE(version.out.starts_with("gantry ")) << version.out;

  // Global options before the command travel with it; so do the command's exit code and errors.
  testing::TempDir dir;
  auto lint = run({GANTRY_BIN, "--log-level", "error", "lint", dir.file("missing.yml")});
  EXPECT_NE(lint.exit_code, 0);
  EXPECT_NE(lint.err.find("missing.yml"), std::string::npos) << lint.err;

  auto help = run({GANTRY_BIN, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("lint"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("runtime"), std::string::npos) << help.out;
}

TEST(FrontTest, RuntimeCommandsAnswerTheSameUnderBothNames) {
  testing::TempDir dir;
  auto in_gantry = run({GANTRY_BIN, "runtime", "--root", dir.path(), "list"});
  auto standalone = run({bin_dir() + "/gantry-runtime", "--root", dir.path(), "list"});
  auto full = run({bin_dir() + "/gantry-cli", "runtime", "--root", dir.path(), "list"});
  EXPECT_EQ(in_gantry.exit_code, 0) << in_gantry.err;
  EXPECT_TRUE(in_gantry.out.starts_with("ID ")) << in_gantry.out;
  EXPECT_EQ(standalone.exit_code, 0) << standalone.err;
  EXPECT_EQ(standalone.out, in_gantry.out);
  EXPECT_EQ(full.out, in_gantry.out);

  auto missing = run({bin_dir() + "/gantry-runtime", "--root", dir.path(), "state", "nope"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("'nope'"), std::string::npos) << missing.err;
}

TEST(FrontTest, BadGlobalOptionIsRefusedBeforeTheRuntimeRuns) {
  testing::TempDir dir;
  auto r = run({GANTRY_BIN, "--log-level", "loud", "runtime", "--root", dir.path(), "list"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("log level 'loud'"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

// `gantry-init -- CMD`: the command's exit code or 128+signal, a shell's 127/126 when it cannot
// be run, with a message naming it; without a command, usage and 125. An orphan the command
// leaves (reparented to it: not pid 1 here, it is a subreaper) does not change the status.
TEST(FrontTest, GantryInitRunsTheCommandAndPassesItsStatusOn) {
  testing::TempDir dir;
  std::string init = dir.file("gantry-init");
  ASSERT_EQ(::symlink(GANTRY_BIN, init.c_str()), 0);
  auto ok = run({init, "--", "/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(ok.exit_code, 3) << ok.err;
  EXPECT_EQ(ok.out, "out\n");
  EXPECT_EQ(ok.err, "err\n");
  auto no_dashes = run({init, "sh", "-c", "exit 0"});
  EXPECT_EQ(no_dashes.exit_code, 0) << no_dashes.err;
  auto killed = run({init, "--", "/bin/sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(killed.exit_code, 128 + 15);
  auto orphan = run({init, "--", "/bin/sh", "-c", "(sleep 0 &); exit 4"});
  EXPECT_EQ(orphan.exit_code, 4);

  auto missing = run({init, "--", "/nonexistent/cmd"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_EQ(missing.err, "gantry-init: exec '/nonexistent/cmd': No such file or directory\n");
  auto not_exec = run({init, "--", dir.path()});
  EXPECT_EQ(not_exec.exit_code, 126);
  EXPECT_NE(not_exec.err.find("Permission denied"), std::string::npos) << not_exec.err;
  auto usage = run({init, "--"});
  EXPECT_EQ(usage.exit_code, 125);
  EXPECT_EQ(usage.err, "gantry-init: usage: gantry-init [--] COMMAND [ARG...]\n");
}

}  // namespace
}  // namespace gantry
