#include "pipeline-schema/dag.h"

#include <map>

namespace gantry::schema {

std::optional<std::vector<std::string>> find_cycle(const std::vector<DagNode>& nodes) {
  std::map<std::string, const DagNode*> by_name;
  for (const auto& n : nodes) by_name.emplace(n.name, &n);
  enum class Mark { kNew, kActive, kDone };
  std::map<std::string, Mark> mark;
  std::vector<std::string> path;

  // Iterative DFS would avoid deep recursion; pipelines have at most a few thousand jobs, and
  // needs lists are capped by GitLab at 50, so plain recursion is fine.
  std::optional<std::vector<std::string>> found;
  auto visit = [&](auto&& self, const DagNode& n) -> void {
    mark[n.name] = Mark::kActive;
    path.push_back(n.name);
    for (const auto& need : n.needs) {
      if (found) return;
      auto it = by_name.find(need);
      if (it == by_name.end()) continue;
      Mark m = mark[need];
      if (m == Mark::kActive) {
        std::vector<std::string> cycle;
        bool in = false;
        for (const auto& p : path) {
          if (p == need) in = true;
          if (in) cycle.push_back(p);
        }
        cycle.push_back(need);
        found = std::move(cycle);
        return;
      }
      if (m == Mark::kNew) self(self, *it->second);
    }
    path.pop_back();
    mark[n.name] = Mark::kDone;
  };
  for (const auto& n : nodes) {
    if (mark[n.name] == Mark::kNew) visit(visit, n);
    if (found) return found;
  }
  return std::nullopt;
}

std::string format_cycle(const std::vector<std::string>& cycle) {
  std::string out;
  for (size_t i = 0; i < cycle.size(); ++i) {
    if (i) out += " -> ";
    out += "'" + cycle[i] + "'";
  }
  return out;
}

namespace {

bool is_local_need(const Need& n) { return !n.project && !n.pipeline; }

void check_list(const Pipeline& p, const Job& job, const std::vector<Need>& needs,
                Diagnostics& diags) {
  int my_stage = p.stage_index(job.stage);
  for (const auto& need : needs) {
    if (!is_local_need(need)) continue;
    const Job* target = p.find_job(need.job);
    if (!target) {
      if (!need.optional) {
        diags.error(need.loc, "job '" + job.name + "' needs '" + need.job +
                                  "', which is not a job of this pipeline");
      }
      continue;
    }
    if (target == &job) {
      diags.error(need.loc, "job '" + job.name + "' needs itself");
      continue;
    }
    int their_stage = p.stage_index(target->stage);
    if (my_stage >= 0 && their_stage > my_stage) {
      diags.error(need.loc, "job '" + job.name + "' (stage '" + job.stage + "') needs '" +
                                need.job + "' of the later stage '" + target->stage +
                                "'; needs must be in the same or an earlier stage");
    }
  }
}

}  // namespace

Diagnostics check_needs(const Pipeline& pipeline) {
  Diagnostics diags;
  std::vector<DagNode> nodes;
  for (const auto& job : pipeline.jobs) {
    DagNode node{job.name, {}};
    auto add = [&](const std::vector<Need>& needs) {
      check_list(pipeline, job, needs, diags);
      for (const auto& n : needs) {
        if (is_local_need(n) && n.job != job.name) node.needs.push_back(n.job);
      }
    };
    if (job.needs) add(*job.needs);
    if (job.rules) {
      for (const auto& rule : *job.rules) {
        if (rule.needs) add(*rule.needs);
      }
    }
    nodes.push_back(std::move(node));
  }
  // Report every distinct cycle: after one is found, cut its first edge and look again.
  for (int guard = 0; guard < 100; ++guard) {
    auto cycle = find_cycle(nodes);
    if (!cycle) break;
    const Job* first = pipeline.find_job((*cycle)[0]);
    SourceLocation loc = first ? first->loc : SourceLocation{};
    if (first && first->needs) {
      for (const auto& n : *first->needs) {
        if (n.job == (*cycle)[1]) loc = n.loc;
      }
    }
    diags.error(loc, "needs form a cycle: " + format_cycle(*cycle));
    for (auto& node : nodes) {
      if (node.name != (*cycle)[0]) continue;
      std::erase(node.needs, (*cycle)[1]);
    }
  }
  return diags;
}

}  // namespace gantry::schema
