// JSON (nlohmann-json) for Gantry's contracts: `Json` is the one JSON type, and parse_json()
// turns parse failures into Errors naming the source and the byte offset.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "common/result.h"

namespace gantry {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// Parses `text`; `source` names it in errors ("config.json", "request body").
Result<Json> parse_json(std::string_view text, std::string_view source);
Result<Json> read_json_file(const std::string& path);

}  // namespace gantry
