// Loading a pipeline: the whole chain from a project directory to the validated model —
// find the file (`.gantry-ci.yml`, then `.gitlab-ci.yml`), parse, `include:`, `extends`,
// `!reference`, keywords and `default:`, then validation — collecting every diagnostic instead
// of stopping at the first. Used by `gantry lint`, `gantry plan`, `gantry run`, the controller.
// Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "pipeline-schema/diagnostics.h"
#include "pipeline-schema/pipeline.h"
#include "pipeline-schema/project_files.h"

namespace gantry::schema {

inline constexpr const char* kPipelineFileNames[] = {".gantry-ci.yml", ".gitlab-ci.yml"};

struct LoadedPipeline {
  Pipeline pipeline;  // as much of the model as could be built, even with errors
  Diagnostics diagnostics;
  std::vector<std::string> files;  // the main file, then each included file (project paths)

  bool ok() const { return !diagnostics.has_errors(); }
};

// The pipeline file of `project_dir`: ".gantry-ci.yml", else ".gitlab-ci.yml" (a project path).
// kNotFound naming both when neither exists.
Result<std::string> find_pipeline_file(const ProjectFiles& files, const std::string& project_dir);

// Loads `file` (a path relative to the project root; empty → find_pipeline_file) from `files`.
// An Error only when the main file cannot be read; every problem in it is a diagnostic.
Result<LoadedPipeline> load_pipeline(const ProjectFiles& files, const std::string& file,
                                     const std::string& project_dir = ".");

// load_pipeline over the directory `project_dir` on disk.
Result<LoadedPipeline> load_pipeline(const std::string& project_dir, const std::string& file = "");

// The chain from text, for tests and stdin; `files` serves includes.
LoadedPipeline load_pipeline_text(std::string_view text, const std::string& file,
                                  const ProjectFiles& files);

}  // namespace gantry::schema
