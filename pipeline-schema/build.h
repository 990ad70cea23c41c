// The model builder: the top-level map, after includes, `extends` and `!reference`, becomes the
// typed Pipeline (pipeline.h). Checks every keyword against GitLab's table (keywords/) with its
// type, applies `default:` to jobs according to `inherit:`, and reports each problem as a
// diagnostic while still building everything it can. Cross-job checks live in validate.h. PURE.
#pragma once

#include <string>

#include "pipeline-schema/diagnostics.h"
#include "pipeline-schema/node.h"
#include "pipeline-schema/pipeline.h"

namespace gantry::schema {

Pipeline build_pipeline(const Node& root, const std::string& file, Diagnostics& diags);

}  // namespace gantry::schema
