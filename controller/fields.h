// Reading API request bodies: typed fields of a JSON object with errors that name the field
// ("field 'name': must be a string"). Used by the controller's operations. PURE.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/result.h"
#include "controller/store.h"

namespace gantry::controller {

// kInvalidArgument unless `body` is a JSON object.
Status require_object(const Json& body);

// A string field; absent → `fallback`, or an error when `required`.
Result<std::string> string_field(const Json& body, const char* field, bool required,
                                 std::string fallback = "");
// An integer field; absent → an error naming it.
Result<int64_t> int_field(const Json& body, const char* field);
// An array of strings; absent → empty.
Result<std::vector<std::string>> string_list_field(const Json& body, const char* field);
// {"key", "value", "masked"}; `where` names it in errors ("variables[2]").
Result<ProjectVariable> variable_from_json(const Json& json, const std::string& where);
// "NAME" of a CI variable: [A-Za-z_][A-Za-z0-9_]*.
bool valid_variable_key(const std::string& key);

}  // namespace gantry::controller
