// How the client commands (`gantry project/pipeline/job/agent …`) show the controller's answers
// to people: aligned tables for listings, a header plus a job table for `pipeline show`. Input is
// the API's JSON (docs/api.md), so `--json` prints the same objects unformatted. Missing fields
// show as "-", never fail. PURE; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "agent/run_output.h"  // format_duration, shared with the run summary
#include "common/json.h"
#include "common/text_table.h"  // format_table

namespace gantry::agent {

std::string format_projects(const Json& projects);     // the "projects" array
std::string format_pipelines(const Json& pipelines);   // the "pipelines" array
std::string format_pipeline(const Json& pipeline);     // one pipeline with its "jobs"
std::string format_job(const Json& job);               // one job, key: value lines
std::string format_agents(const Json& agents);         // the "agents" array

}  // namespace gantry::agent
