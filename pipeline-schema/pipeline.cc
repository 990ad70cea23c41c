#include "pipeline-schema/pipeline.h"

#include <algorithm>

namespace gantry::schema {

std::string_view when_name(When w) {
  switch (w) {
    case When::kOnSuccess:
      return "on_success";
    case When::kOnFailure:
      return "on_failure";
    case When::kAlways:
      return "always";
    case When::kManual:
      return "manual";
    case When::kDelayed:
      return "delayed";
    case When::kNever:
      return "never";
  }
  return "on_success";
}

std::optional<When> parse_when(std::string_view s) {
  for (When w : {When::kOnSuccess, When::kOnFailure, When::kAlways, When::kManual,
                 When::kDelayed, When::kNever}) {
    if (when_name(w) == s) return w;
  }
  return std::nullopt;
}

bool Inherit::inherits_default(std::string_view keyword) const {
  return all_default ||
         std::find(default_keys.begin(), default_keys.end(), keyword) != default_keys.end();
}

bool Inherit::inherits_variable(std::string_view name) const {
  return all_variables ||
         std::find(variable_names.begin(), variable_names.end(), name) != variable_names.end();
}

const Job* Pipeline::find_job(std::string_view name) const {
  for (const auto& j : jobs)
    if (j.name == name) return &j;
  return nullptr;
}

bool Pipeline::has_stage(std::string_view name) const { return stage_index(name) >= 0; }

int Pipeline::stage_index(std::string_view name) const {
  for (std::size_t i = 0; i < stages.size(); ++i)
    if (stages[i].value == name) return static_cast<int>(i);
  return -1;
}

}  // namespace gantry::schema
