// Cross-job checks on the built Pipeline model, after build.h's per-keyword checks: every
// visible job has a `script` (or is a `trigger` job), its stage exists, `dependencies` name
// jobs of earlier stages, `environment:on_stop` names a job, and every `rules:if`,
// `only/except:variables` expression parses (errors point at the expression's column).
// and the `needs:` graph is sound (dag.h: missing jobs, later stages, cycles). PURE.
#pragma once

#include "pipeline-schema/diagnostics.h"
#include "pipeline-schema/pipeline.h"

namespace gantry::schema {

void validate_pipeline(const Pipeline& pipeline, Diagnostics& diags);

}  // namespace gantry::schema
