// The SQLite store on a temp file: migrations, records round trip, filters, reopening.
#include "controller/store.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace gantry::controller {
namespace {

// Project "demo" (repository "/r"): its id.
int64_t create_demo_project(Store& store) {
  ProjectRecord p;
  p.name = "demo";
  p.repo_url = "/r";
  return *store.create_project(p);
}

TEST(StoreTest, MigratesAndReopensAtTheSameVersion) {
  testing::TempDir dir;
  int version = 0;
  {
    auto store = Store::open(dir.file("g.db"));
    ASSERT_TRUE(store.ok()) << store.error().message();
    version = (*store)->schema_version();
    EXPECT_GE(version, 1);
    ASSERT_TRUE((*store)->set_setting("k", "v").ok());
  }
  auto store = Store::open(dir.file("g.db"));
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->schema_version(), version);
  EXPECT_EQ(*(*store)->get_setting("k"), std::optional<std::string>("v"));
  EXPECT_EQ(*(*store)->get_setting("missing"), std::nullopt);
}

TEST(StoreTest, ProjectsWithVariablesAndUniqueNames) {
  testing::TempDir dir;
  auto store = std::move(Store::open(dir.file("g.db"))).value();
  ProjectRecord p;
  p.name = "demo";
  p.repo_url = "/srv/demo.git";
  p.variables = {{"B", "2", false}, {"A", "secret-value", true}};
  auto id = store->create_project(p);
  ASSERT_TRUE(id.ok()) << id.error().message();
  auto again = store->create_project(p);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  auto found = store->find_project("demo");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, *id);
  ASSERT_EQ((*found)->variables.size(), 2u);
  EXPECT_EQ((*found)->variables[0].key, "A");  // ordered by key
  EXPECT_TRUE((*found)->variables[0].masked);
  ASSERT_TRUE(store->set_variable(*id, {"A", "other-value", false}).ok());
  EXPECT_FALSE((*store->get_project(*id))->variables[0].masked);
  EXPECT_EQ(store->delete_variable(*id, "nope").error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(store->delete_variable(*id, "B").ok());
  EXPECT_EQ((*store->get_project(*id))->variables.size(), 1u);
  EXPECT_EQ(*store->find_project("other"), std::nullopt);
}

TEST(StoreTest, PipelinesAndJobsRoundTrip) {
  testing::TempDir dir;
  auto store = std::move(Store::open(dir.file("g.db"))).value();
  int64_t project = create_demo_project(*store);
  PipelineRecord pl;
  pl.project_id = project;
  pl.ref = "main";
  pl.sha = std::string(40, 'a');
  pl.stages = {"build", "test"};
  pl.diagnostics = {"x.yml:1:1: error: y"};
  std::vector<JobRecord> jobs(2);
  jobs[0].name = "build";
  jobs[0].project_id = project;
  jobs[0].tags = {"linux"};
  jobs[1].name = "test 1/2";
  jobs[1].project_id = project;
  jobs[1].position = 1;
  jobs[1].needs = std::vector<std::string>{"build"};
  jobs[1].allow_failure_exit_codes = {3, 4};
  jobs[1].when = "delayed";
  jobs[1].start_in_seconds = 90;
  auto id = store->create_pipeline(pl, jobs);
  ASSERT_TRUE(id.ok()) << id.error().message();
  EXPECT_GT(jobs[0].id, 0);
  EXPECT_EQ(jobs[1].pipeline_id, *id);

  auto got = store->pipeline_jobs(*id);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].tags, std::vector<std::string>{"linux"});
  EXPECT_EQ((*got)[0].needs, std::nullopt);
  EXPECT_EQ((*got)[1].needs, std::vector<std::string>{"build"});
  EXPECT_EQ((*got)[1].allow_failure_exit_codes, (std::vector<int>{3, 4}));
  EXPECT_EQ((*got)[1].start_in_seconds, 90);
  EXPECT_EQ((*got)[1].scheduled_at, 0);

  JobRecord scheduled = (*got)[1];
  scheduled.status = "scheduled";
  scheduled.scheduled_at = 1'700'000'090'000;
  ASSERT_TRUE(store->update_job(scheduled).ok());
  EXPECT_EQ((*store->get_job(scheduled.id))->scheduled_at, 1'700'000'090'000);
  EXPECT_EQ(store->jobs_with_status("scheduled")->size(), 1u);

  JobRecord j = (*got)[1];
  j.status = "failed";
  j.exit_code = 3;
  j.attempt = 2;
  j.log_size = 1234;
  j.artifact_digest = "sha256:" + std::string(64, 'b');
  ASSERT_TRUE(store->update_job(j).ok());
  auto back = store->get_job(j.id);
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->status, "failed");
  EXPECT_EQ((*back)->exit_code, 3);
  EXPECT_EQ((*back)->attempt, 2);
  EXPECT_EQ((*back)->log_size, 1234u);
  EXPECT_EQ(store->jobs_with_status("failed")->size(), 1u);

  auto stored = store->get_pipeline(*id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->stages, (std::vector<std::string>{"build", "test"}));
  EXPECT_EQ((*stored)->diagnostics.size(), 1u);
}

TEST(StoreTest, PipelineListFiltersAndPages) {
  testing::TempDir dir;
  auto store = std::move(Store::open(dir.file("g.db"))).value();
  int64_t project = create_demo_project(*store);
  for (int i = 0; i < 5; ++i) {
    PipelineRecord pl;
    pl.project_id = project;
    pl.ref = i % 2 ? "dev" : "main";
    pl.status = i < 2 ? "success" : "running";
    std::vector<JobRecord> none;
    ASSERT_TRUE(store->create_pipeline(pl, none).ok());
  }
  PipelineFilter f;
  auto all = store->list_pipelines(f);
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[0].id, 5);  // newest first
  f.ref = "main";
  EXPECT_EQ(store->list_pipelines(f)->size(), 3u);
  f = {};
  f.status = "running";
  EXPECT_EQ(store->list_pipelines(f)->size(), 3u);
  f = {};
  f.before_id = 3;
  f.limit = 1;
  auto page = store->list_pipelines(f);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, 2);
  EXPECT_EQ(store->active_pipelines(project, "main")->size(), 2u);  // 3 and 5
  EXPECT_EQ(store->unfinished_pipeline_ids()->size(), 3u);
}

// The dispatcher's cached view of pending jobs is current while this count is unchanged: every
// write of a job must move it, and nothing else needs to.
TEST(StoreTest, JobWritesCountEveryWriteOfAJob) {
  testing::TempDir dir;
  auto store = std::move(Store::open(dir.file("g.db"))).value();
  int64_t project = create_demo_project(*store);
  uint64_t before = store->job_writes();
  PipelineRecord pl;
  pl.project_id = project;
  std::vector<JobRecord> jobs(1);
  jobs[0].project_id = project;
  jobs[0].name = "job";
  ASSERT_TRUE(store->create_pipeline(pl, jobs).ok());
  uint64_t created = store->job_writes();
  EXPECT_GT(created, before);
  AgentRecord a;
  a.name = "a";
  a.token_hash = "h";
  ASSERT_TRUE(store->create_agent(a).ok());
  ASSERT_TRUE(store->list_pipelines({}).ok());
  EXPECT_EQ(store->job_writes(), created);  // reads and other records do not count
  jobs[0].status = "pending";
  ASSERT_TRUE(store->update_job(jobs[0]).ok());
  EXPECT_GT(store->job_writes(), created);
}

TEST(StoreTest, AgentsByTokenHash) {
  testing::TempDir dir;
  auto store = std::move(Store::open(dir.file("g.db"))).value();
  AgentRecord a;
  a.name = "builder";
  a.labels = {"linux", "docker"};
  a.token_hash = "abc";
  auto id = store->create_agent(a);
  ASSERT_TRUE(id.ok());
  auto found = store->find_agent_by_token_hash("abc");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->labels, a.labels);
  EXPECT_EQ(*store->find_agent_by_token_hash("zzz"), std::nullopt);
  AgentRecord b = **found;
  b.paused = true;
  ASSERT_TRUE(store->update_agent(b).ok());
  EXPECT_TRUE((*store->get_agent(*id))->paused);
}

TEST(StoreTest, UnreadableDatabaseIsAClearError) {
  testing::TempDir dir;
  auto store = Store::open(dir.file("missing-dir/g.db"));
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message().find("missing-dir/g.db"), std::string::npos);
}

}  // namespace
}  // namespace gantry::controller
