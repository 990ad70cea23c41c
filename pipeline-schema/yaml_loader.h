// The YAML front end: pipeline text -> Node tree. The only file that includes yaml-cpp.
// Keeps every node's line and column, resolves anchors and aliases, applies `<<` merge keys
// (which yaml-cpp 0.7 leaves to the application), and keeps `!reference [job, key]` as a tagged
// sequence for reference.h. Syntax errors become diagnostics with file:line:col. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "pipeline-schema/diagnostics.h"
#include "pipeline-schema/node.h"

namespace gantry::schema {

// Parses `text` (named `file` in locations). Returns the document, or nullopt after adding an
// error to `diags` when the text is not valid YAML. An empty text is a null node. A leading
// `spec:` header document (GitLab's `spec:inputs`) is skipped with a warning.
std::optional<Node> parse_yaml(std::string_view text, const std::string& file, Diagnostics& diags);

}  // namespace gantry::schema
