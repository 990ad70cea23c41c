// parallel/matrix naming and the needs graph checks.
#include <gtest/gtest.h>

#include "pipeline-schema/dag.h"
#include "pipeline-schema/matrix.h"

namespace gantry::schema {
namespace {

TEST(MatrixTest, ParallelCountNamesJobsIOfN) {
  Parallel p;
  p.count = 3;
  auto r = expand_parallel("test", p);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].name, "test 1/3");
  EXPECT_EQ((*r)[2].name, "test 3/3");
  EXPECT_EQ((*r)[1].node_index, 2);
  EXPECT_EQ((*r)[1].node_total, 3);
}

TEST(MatrixTest, ParallelOneIsStillNamedOneOfOne) {
  Parallel p;
  p.count = 1;
  auto r = expand_parallel("shard", p);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].name, "shard 1/1");
  EXPECT_EQ((*r)[0].node_index, 1);
}

TEST(MatrixTest, NoParallelIsTheJobItself) {
  auto r = expand_parallel("build", std::nullopt);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].name, "build");
  EXPECT_EQ((*r)[0].node_index, 0);
}

TEST(MatrixTest, MatrixNamesFollowGitLabsExample) {
  // GitLab's documentation example for parallel:matrix.
  Parallel p;
  p.matrix = {
      {{"PROVIDER", {"aws"}}, {"STACK", {"monitoring", "app1", "app2"}}},
      {{"PROVIDER", {"ovh"}}, {"STACK", {"monitoring", "backup", "app"}}},
      {{"PROVIDER", {"gcp", "vultr"}}, {"STACK", {"data", "processing"}}},
  };
  auto r = expand_parallel("deploystacks", p);
  ASSERT_TRUE(r.ok());
  std::vector<std::string> names;
  for (const auto& i : *r) names.push_back(i.name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "deploystacks: [aws, monitoring]", "deploystacks: [aws, app1]",
                       "deploystacks: [aws, app2]", "deploystacks: [ovh, monitoring]",
                       "deploystacks: [ovh, backup]", "deploystacks: [ovh, app]",
                       "deploystacks: [gcp, data]", "deploystacks: [gcp, processing]",
                       "deploystacks: [vultr, data]", "deploystacks: [vultr, processing]"}));
  EXPECT_EQ((*r)[9].node_index, 10);
  EXPECT_EQ((*r)[0].node_total, 10);
  EXPECT_EQ((*r)[4].variables,
            (std::vector<std::pair<std::string, std::string>>{{"PROVIDER", "ovh"},
                                                              {"STACK", "backup"}}));
}

TEST(MatrixTest, RefusesMoreThan200Instances) {
  Parallel p;
  std::vector<std::string> values;
  for (int i = 0; i < 15; ++i) values.push_back(std::to_string(i));
  p.matrix = {{{"A", values}, {"B", values}}};
  auto r = expand_parallel("big", p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("more than 200"), std::string::npos);
}

TEST(MatrixTest, SelectsInstancesForNeedsMatrix) {
  Parallel p;
  p.matrix = {{{"PROVIDER", {"aws", "gcp"}}, {"STACK", {"app", "db"}}}};
  auto inst = expand_parallel("build", p);
  ASSERT_TRUE(inst.ok());
  auto sel = select_matrix_instances(*inst, {{{"PROVIDER", {"aws"}}, {"STACK", {"db"}}}});
  EXPECT_EQ(sel, (std::vector<std::string>{"build: [aws, db]"}));
}

TEST(DagTest, FindsACycleAndNamesIt) {
  std::vector<DagNode> nodes = {{"a", {"b"}}, {"b", {"c"}}, {"c", {"a"}}, {"d", {}}};
  auto c = find_cycle(nodes);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(format_cycle(*c), "'a' -> 'b' -> 'c' -> 'a'");
  EXPECT_FALSE(find_cycle({{"a", {"b"}}, {"b", {}}, {"c", {"a", "b"}}}).has_value());
}

Job job(std::string name, std::string stage, std::vector<std::string> needs, int line) {
  Job j;
  j.name = std::move(name);
  j.stage = std::move(stage);
  j.loc = {".gitlab-ci.yml", line, 1};
  std::vector<Need> list;
  for (auto& n : needs) {
    Need need;
    need.job = n;
    need.loc = {".gitlab-ci.yml", line + 1, 5};
    list.push_back(need);
  }
  j.needs = list;
  return j;
}

Pipeline pipeline_of(std::vector<Job> jobs) {
  Pipeline p;
  p.file = ".gitlab-ci.yml";
  for (auto s : {".pre", "build", "test", "deploy", ".post"}) p.stages.push_back({s, {}, false});
  p.jobs = std::move(jobs);
  return p;
}

TEST(DagTest, RejectsCycleThroughNeeds) {
  auto p = pipeline_of({job("a", "test", {"b"}, 1), job("b", "test", {"a"}, 10)});
  auto d = check_needs(p);
  ASSERT_EQ(d.error_count(), 1u);
  EXPECT_EQ(d.all()[0].render(),
            ".gitlab-ci.yml:2:5: error: needs form a cycle: 'a' -> 'b' -> 'a'");
}

TEST(DagTest, RejectsMissingJobUnlessOptional) {
  auto p = pipeline_of({job("a", "test", {"nope"}, 1)});
  auto d = check_needs(p);
  ASSERT_EQ(d.error_count(), 1u);
  EXPECT_EQ(d.all()[0].render(),
            ".gitlab-ci.yml:2:5: error: job 'a' needs 'nope', which is not a job of this "
            "pipeline");
  (*p.jobs[0].needs)[0].optional = true;
  EXPECT_FALSE(check_needs(p).has_errors());
}

TEST(DagTest, AllowsSameAndEarlierStagesButNotLater) {
  auto ok = pipeline_of({job("b", "build", {}, 1), job("t1", "test", {"b"}, 5),
                         job("t2", "test", {"t1"}, 9)});
  EXPECT_FALSE(check_needs(ok).has_errors());
  auto bad = pipeline_of({job("b", "build", {"t"}, 1), job("t", "test", {}, 5)});
  auto d = check_needs(bad);
  ASSERT_EQ(d.error_count(), 1u);
  EXPECT_NE(d.all()[0].message.find("later stage 'test'"), std::string::npos);
}

}  // namespace
}  // namespace gantry::schema
