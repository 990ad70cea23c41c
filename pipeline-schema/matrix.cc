#include "pipeline-schema/matrix.h"

#include <algorithm>

namespace gantry::schema {

std::string matrix_job_name(std::string_view job_name,
                            const std::vector<std::pair<std::string, std::string>>& values) {
  std::string name(job_name);
  name += ": [";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) name += ", ";
    name += values[i].second;
  }
  name += "]";
  return name;
}

Result<std::vector<JobInstance>> expand_parallel(std::string_view job_name,
                                                 const std::optional<Parallel>& parallel) {
  std::vector<JobInstance> out;
  // `parallel: 1` still makes "job 1/1", as GitLab's number strategy does.
  if (!parallel || (parallel->count < 1 && parallel->matrix.empty())) {
    out.push_back({std::string(job_name), {}, 0, 1});
    return out;
  }
  if (parallel->matrix.empty()) {
    int n = parallel->count;
    for (int i = 1; i <= n; ++i) {
      out.push_back({std::string(job_name) + " " + std::to_string(i) + "/" + std::to_string(n),
                     {}, i, n});
    }
    return out;
  }
  std::vector<std::vector<std::pair<std::string, std::string>>> combos;
  for (const auto& entry : parallel->matrix) {
    // Cartesian product, first variable slowest (Ruby's Array#product order).
    std::vector<std::vector<std::pair<std::string, std::string>>> partial{{}};
    for (const auto& [name, values] : entry) {
      std::vector<std::vector<std::pair<std::string, std::string>>> next;
      for (const auto& prefix : partial) {
        for (const auto& value : values) {
          auto combo = prefix;
          combo.emplace_back(name, value);
          next.push_back(std::move(combo));
        }
      }
      partial = std::move(next);
      if (partial.size() > kMaxParallelInstances) break;
    }
    combos.insert(combos.end(), partial.begin(), partial.end());
    if (combos.size() > kMaxParallelInstances) break;
  }
  if (combos.size() > kMaxParallelInstances) {
    return Error(ErrorCode::kInvalidArgument,
                 "job '" + std::string(job_name) + "': parallel:matrix makes more than " +
                     std::to_string(kMaxParallelInstances) + " jobs");
  }
  int total = static_cast<int>(combos.size());
  for (int i = 0; i < total; ++i) {
    out.push_back({matrix_job_name(job_name, combos[i]), combos[i], i + 1, total});
  }
  return out;
}

std::vector<std::string> select_matrix_instances(const std::vector<JobInstance>& instances,
                                                 const std::vector<MatrixEntry>& filter) {
  std::vector<std::string> out;
  for (const auto& inst : instances) {
    bool selected = false;
    for (const auto& entry : filter) {
      bool all = true;
      for (const auto& [name, values] : entry) {
        auto it = std::find_if(inst.variables.begin(), inst.variables.end(),
                               [&](const auto& kv) { return kv.first == name; });
        if (it == inst.variables.end() ||
            std::find(values.begin(), values.end(), it->second) == values.end()) {
          all = false;
          break;
        }
      }
      if (all) {
        selected = true;
        break;
      }
    }
    if (selected) out.push_back(inst.name);
  }
  return out;
}

}  // namespace gantry::schema
