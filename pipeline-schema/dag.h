// The `needs:` graph. GitLab lets a job need jobs of earlier stages and (since 14.2) of its own
// stage, never of a later one, and the graph must be acyclic. check_needs() reports, on the
// model, every need of a job that does not exist (unless `optional: true`), of a later stage,
// and each cycle, naming its jobs in order ("a -> b -> a"). find_cycle() and stage-free
// topological order work on any name graph (the plan's instances). PURE.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pipeline-schema/diagnostics.h"
#include "pipeline-schema/pipeline.h"

namespace gantry::schema {

struct DagNode {
  std::string name;
  std::vector<std::string> needs;  // names of other nodes; unknown names are ignored here
};

// The first cycle found, in a deterministic order (nodes in input order, needs in order), as
// the list of names around it with the first repeated at the end; nullopt when acyclic.
std::optional<std::vector<std::string>> find_cycle(const std::vector<DagNode>& nodes);

// "a -> b -> a".
std::string format_cycle(const std::vector<std::string>& cycle);

// Static checks of the model's needs (see the header comment); diagnostics point at the need.
// Cross-project and cross-pipeline needs (`project:`, `pipeline:`) are not checked.
Diagnostics check_needs(const Pipeline& pipeline);

}  // namespace gantry::schema
