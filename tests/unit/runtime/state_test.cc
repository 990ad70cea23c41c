#include "runtime/state.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "runtime/paths.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime {
namespace {

ContainerState sample() {
  ContainerState s;
  s.id = "job-1";
  s.status = ContainerStatus::kCreated;
  s.pid = 4242;
  s.bundle = "/b/job-1";
  s.annotations = {{"k", "v"}};
  s.init_start_time = 777;
  s.cgroup_path = "/gantry/job-1";
  s.created = "2026-01-02T03:04:05.000000001Z";
  s.config = Json{{"ociVersion", "1.0.2"}};
  return s;
}

TEST(StateTest, OciStateHasTheSpecFields) {
  Json j = oci_state_json(sample());
  EXPECT_EQ(j, (Json{{"ociVersion", "1.0.2"},
                     {"id", "job-1"},
                     {"status", "created"},
                     {"pid", 4242},
                     {"bundle", "/b/job-1"},
                     {"annotations", {{"k", "v"}}}}));
}

TEST(StateTest, OciStateOmitsPidOnceStopped) {
  ContainerState s = sample();
  s.status = ContainerStatus::kStopped;
  EXPECT_FALSE(oci_state_json(s).contains("pid"));
  s.status = ContainerStatus::kCreating;  // what prestart hooks see: the init exists
  EXPECT_EQ(oci_state_json(s)["pid"], 4242);
  s.pid = 0;
  EXPECT_FALSE(oci_state_json(s).contains("pid"));
}

TEST(StateTest, StateFileRoundTrips) {
  ContainerState s = sample();
  auto back = parse_state_file(state_file_json(s), "state.json");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->id, s.id);
  EXPECT_EQ(back->status, s.status);
  EXPECT_EQ(back->pid, s.pid);
  EXPECT_EQ(back->bundle, s.bundle);
  EXPECT_EQ(back->annotations, s.annotations);
  EXPECT_EQ(back->init_start_time, s.init_start_time);
  EXPECT_EQ(back->cgroup_path, s.cgroup_path);
  EXPECT_EQ(back->created, s.created);
  EXPECT_EQ(back->config, s.config);
}

TEST(StateTest, MalformedStateFileIsAnError) {
  auto back = parse_state_file(Json{{"id", "x"}}, "'/r/x/state.json'");
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().message().rfind("'/r/x/state.json': malformed state", 0), 0u)
      << back.error().message();
}

TEST(StateTest, StatusNamesRoundTrip) {
  for (auto name : {"creating", "created", "running", "stopped"}) {
    auto s = parse_status(name);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(status_name(*s), name);
  }
  EXPECT_FALSE(parse_status("paused").ok());
}

TEST(ProcStatTest, ParsesStartTimeAndState) {
  // comm with spaces and a ')' in it, as a hostile process name could be.
  std::string line =
      "812 (a) b) c) S 1 812 812 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  auto info = parse_proc_stat(line);
  ASSERT_TRUE(info.ok()) << info.error().message();
  EXPECT_EQ(info->state, 'S');
  EXPECT_EQ(info->start_time, 98765u);
}

TEST(ProcStatTest, RejectsTruncatedLines) {
  EXPECT_FALSE(parse_proc_stat("812 (x) S 1 2 3").ok());
  EXPECT_FALSE(parse_proc_stat("garbage").ok());
}

TEST(ProcStatTest, ProbesThisProcess) {
  auto me = probe_process(::getpid());
  ASSERT_TRUE(me.has_value());
  EXPECT_GT(me->start_time, 0u);
  EXPECT_EQ(me->state, 'R');
  EXPECT_FALSE(probe_process(0).has_value());
}

TEST(DeriveStatusTest, FollowsTheInitAndTheFifo) {
  ContainerState s = sample();
  ProcessInfo alive{777, 'S'};
  EXPECT_EQ(derive_status(s, alive, true), ContainerStatus::kCreated);
  EXPECT_EQ(derive_status(s, alive, false), ContainerStatus::kRunning);
  EXPECT_EQ(derive_status(s, std::nullopt, false), ContainerStatus::kStopped);
  EXPECT_EQ(derive_status(s, ProcessInfo{777, 'Z'}, false), ContainerStatus::kStopped);
  // Same pid, different start time: the pid was recycled by another process.
  EXPECT_EQ(derive_status(s, ProcessInfo{778, 'S'}, false), ContainerStatus::kStopped);
  ContainerState creating;
  creating.status = ContainerStatus::kCreating;
  EXPECT_EQ(derive_status(creating, std::nullopt, false), ContainerStatus::kCreating);
}

class StateStoreTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  StateStore store_{dir_.file("root")};
};

TEST_F(StateStoreTest, ReserveSaveLoadRemove) {
  ASSERT_TRUE(store_.reserve("job-1").ok());
  EXPECT_TRUE(is_directory(dir_.file("root/job-1")));
  // Reserved but not yet saved: creating.
  auto creating = store_.load("job-1");
  ASSERT_TRUE(creating.ok());
  EXPECT_EQ(creating->status, ContainerStatus::kCreating);

  ContainerState s = sample();
  s.pid = ::getpid();
  s.init_start_time = probe_process(::getpid())->start_time;
  ASSERT_TRUE(store_.save(s).ok());
  struct stat st;
  ASSERT_EQ(::stat(paths::state_file(store_.dir("job-1")).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = store_.load("job-1");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(loaded->status, ContainerStatus::kRunning);  // no fifo, live "init"
  ASSERT_EQ(::mkfifo(paths::exec_fifo(store_.dir("job-1")).c_str(), 0600), 0);
  EXPECT_EQ(store_.load("job-1")->status, ContainerStatus::kCreated);

  auto ids = store_.ids();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, std::vector<std::string>{"job-1"});
  ASSERT_TRUE(store_.remove("job-1").ok());
  EXPECT_FALSE(path_exists(store_.dir("job-1")));
  auto gone = store_.load("job-1");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(gone.error().message(), "container 'job-1' does not exist");
}

TEST_F(StateStoreTest, ReserveRefusesAnIdInUse) {
  ASSERT_TRUE(store_.reserve("a").ok());
  auto again = store_.reserve("a");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.error().message(), "container 'a' already exists");
}

TEST_F(StateStoreTest, LockNeedsTheContainer) {
  auto missing = store_.lock("ghost");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(store_.reserve("a").ok());
  auto lock = store_.lock("a");
  ASSERT_TRUE(lock.ok()) << lock.error().message();
  EXPECT_TRUE(lock->valid());
}

TEST_F(StateStoreTest, IdsOfAMissingRootIsEmpty) {
  auto ids = store_.ids();
  ASSERT_TRUE(ids.ok());
  EXPECT_TRUE(ids->empty());
}

}  // namespace
}  // namespace gantry::runtime
