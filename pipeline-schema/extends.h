// `extends:` and `!reference` resolution, with GitLab's rules and in GitLab's order (after
// includes, extends first, then references). extends: each parent (one or a list, applied in
// order, later parents winning) is resolved first and deep-merged under the job — maps merged
// key by key, lists and scalars replaced — up to GitLab's 11 levels; missing parents and loops
// are errors. !reference [job, key, ...]: replaced by a copy of that value, nested up to 10
// deep. PURE; works in place on the top-level map.
#pragma once

#include <string_view>

#include "pipeline-schema/diagnostics.h"
#include "pipeline-schema/node.h"

namespace gantry::schema {

inline constexpr int kMaxExtendsLevels = 11;
inline constexpr int kMaxReferenceNesting = 10;

// True for the top-level keys that are not jobs (stages, variables, default, ...).
bool is_global_keyword(std::string_view key);

// "job 'build'" or "hidden job '.base'", the owner named in a job's diagnostics.
std::string job_owner(std::string_view name);

// Resolves `extends:` of every top-level job (hidden ones included) and removes the key.
void resolve_extends(Node& root, Diagnostics& diags);

// Replaces every `!reference` node; reports unknown tags.
void resolve_references(Node& root, Diagnostics& diags);

}  // namespace gantry::schema
