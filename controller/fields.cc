#include "controller/fields.h"

#include <cctype>

namespace gantry::controller {

namespace {

Error bad(const std::string& field, const std::string& why) {
  return Error(ErrorCode::kInvalidArgument, "field '" + field + "': " + why);
}

}  // namespace

Status require_object(const Json& body) {
  if (!body.is_object()) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string("request body: expected a JSON object, got ") + body.type_name());
  }
  return ok_status();
}

Result<std::string> string_field(const Json& body, const char* field, bool required,
                                 std::string fallback) {
  if (!body.contains(field) || body.at(field).is_null()) {
    if (required) return bad(field, "missing");
    return fallback;
  }
  const Json& v = body.at(field);
  if (!v.is_string()) return bad(field, std::string("must be a string, got ") + v.type_name());
  return v.get<std::string>();
}

Result<int64_t> int_field(const Json& body, const char* field) {
  if (!body.contains(field)) return bad(field, "missing");
  const Json& v = body.at(field);
  if (!v.is_number_integer()) {
    return bad(field, std::string("must be an integer, got ") + v.type_name());
  }
  return v.get<int64_t>();
}

Result<std::vector<std::string>> string_list_field(const Json& body, const char* field) {
  std::vector<std::string> out;
  if (!body.contains(field) || body.at(field).is_null()) return out;
  const Json& v = body.at(field);
  if (!v.is_array()) return bad(field, std::string("must be an array, got ") + v.type_name());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      return bad(std::string(field) + "[" + std::to_string(i) + "]", "must be a string");
    }
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

bool valid_variable_key(const std::string& key) {
  if (key.empty() || key.size() > 255) return false;
  if (std::isdigit(static_cast<unsigned char>(key[0]))) return false;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

Result<ProjectVariable> variable_from_json(const Json& json, const std::string& where) {
  if (!json.is_object()) return bad(where, "must be an object {key, value, masked}");
  ProjectVariable v;
  auto key = string_field(json, "key", true);
  if (!key.ok()) return bad(where + ".key", "missing or not a string");
  v.key = *key;
  if (!valid_variable_key(v.key)) {
    return bad(where + ".key", "'" + v.key + "' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
  }
  auto value = string_field(json, "value", true);
  if (!value.ok()) return bad(where + ".value", "missing or not a string");
  v.value = *value;
  if (json.contains("masked")) {
    if (!json.at("masked").is_boolean()) return bad(where + ".masked", "must be true or false");
    v.masked = json.at("masked").get<bool>();
  }
  if (v.masked && v.value.size() < 8) {
    return bad(where + ".value", "a masked value needs at least 8 characters (as GitLab)");
  }
  return v;
}

}  // namespace gantry::controller
