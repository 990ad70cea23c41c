#include "pipeline-schema/load.h"

#include "pipeline-schema/build.h"
#include "pipeline-schema/extends.h"
#include "pipeline-schema/include.h"
#include "pipeline-schema/validate.h"
#include "pipeline-schema/yaml_loader.h"

namespace gantry::schema {

Result<std::string> find_pipeline_file(const ProjectFiles& files, const std::string& project_dir) {
  for (const char* name : kPipelineFileNames) {
    if (files.exists(name)) return std::string(name);
  }
  return Error(ErrorCode::kNotFound, "no pipeline file in '" + project_dir +
                                         "': neither '.gantry-ci.yml' nor '.gitlab-ci.yml' exists");
}

LoadedPipeline load_pipeline_text(std::string_view text, const std::string& file,
                                  const ProjectFiles& files) {
  LoadedPipeline out;
  out.files.push_back(file);
  out.pipeline.file = file;
  auto& diags = out.diagnostics;
  auto root = parse_yaml(text, file, diags);
  if (!root) return out;
  Node expanded = expand_includes(std::move(*root), file, files, diags, &out.files);
  resolve_extends(expanded, diags);
  resolve_references(expanded, diags);
  out.pipeline = build_pipeline(expanded, file, diags);
  validate_pipeline(out.pipeline, diags);
  return out;
}

Result<LoadedPipeline> load_pipeline(const ProjectFiles& files, const std::string& file,
                                     const std::string& project_dir) {
  std::string path = file;
  if (path.empty()) {
    GANTRY_ASSIGN_OR_RETURN(path, find_pipeline_file(files, project_dir));
  }
  path = normalize_project_path(path);
  auto text = files.read(path);
  if (!text.ok()) return std::move(text).error().with_context("load pipeline");
  return load_pipeline_text(*text, path, files);
}

Result<LoadedPipeline> load_pipeline(const std::string& project_dir, const std::string& file) {
  DiskProjectFiles files(project_dir);
  return load_pipeline(files, file, project_dir);
}

}  // namespace gantry::schema
