#include "pipeline-schema/trigger.h"

#include <cctype>

namespace gantry::schema {

Status validate_pipeline_source(std::string_view source) {
  std::string known;
  for (auto s : kPipelineSources) {
    if (s == source) return ok_status();
    if (!known.empty()) known += ", ";
    known += s;
  }
  return Error(ErrorCode::kInvalidArgument, "unknown pipeline source '" + std::string(source) +
                                                "' (expected one of: " + known + ")");
}

Result<std::pair<std::string, std::string>> parse_variable_assignment(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos) {
    return Error(ErrorCode::kInvalidArgument,
                 "variable '" + std::string(text) + "' must be written KEY=VALUE");
  }
  std::string name(text.substr(0, eq));
  bool ok = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') ok = false;
  }
  if (!ok) {
    return Error(ErrorCode::kInvalidArgument,
                 "variable name '" + name +
                     "' must be letters, digits and '_', not starting with a digit");
  }
  return std::pair<std::string, std::string>(std::move(name), std::string(text.substr(eq + 1)));
}

}  // namespace gantry::schema
