// `parallel:` expansion into job instances, named as GitLab names them:
//   `parallel: N`      → "job 1/N" … "job N/N" (also for N = 1), CI_NODE_INDEX = i,
//                        CI_NODE_TOTAL = N;
//   `parallel: matrix` → one instance per combination, "job: [v1, v2]" (the values in the order
//     the variables are written), entries in order, within an entry the first variable varying
//     slowest; each instance gets its variables, CI_NODE_INDEX and CI_NODE_TOTAL (all instances).
// Also selects the instances a `needs:parallel:matrix` names. PURE.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "pipeline-schema/pipeline.h"

namespace gantry::schema {

struct JobInstance {
  std::string name;  // the instance's job name
  std::vector<std::pair<std::string, std::string>> variables;  // matrix values, in order
  int node_index = 0;  // 1-based; 0 when the job has no `parallel:`
  int node_total = 1;
};

// GitLab's limit on the number of instances of one job.
inline constexpr size_t kMaxParallelInstances = 200;

// The instances of `job_name` for `parallel` (one instance, the job itself, when unset).
// kInvalidArgument when a matrix would make more than kMaxParallelInstances jobs.
Result<std::vector<JobInstance>> expand_parallel(std::string_view job_name,
                                                 const std::optional<Parallel>& parallel);

// The name GitLab gives the matrix instance with these values.
std::string matrix_job_name(std::string_view job_name,
                            const std::vector<std::pair<std::string, std::string>>& values);

// The instance names of `instances` selected by a `needs:parallel:matrix` filter: an instance
// is selected when, for some entry of `filter`, each of the entry's variables has one of the
// listed values.
std::vector<std::string> select_matrix_instances(const std::vector<JobInstance>& instances,
                                                 const std::vector<MatrixEntry>& filter);

}  // namespace gantry::schema
