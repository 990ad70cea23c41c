#include "common/json.h"

#include "common/file.h"

namespace gantry {

Result<Json> parse_json(std::string_view text, std::string_view source) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 1, column 2: ...".
    std::string what = e.what();
    auto pos = what.find("] ");
    if (pos != std::string::npos) what = what.substr(pos + 2);
    return Error(ErrorCode::kInvalidArgument, "parse " + std::string(source) + ": " + what);
  }
}

Result<Json> read_json_file(const std::string& path) {
  GANTRY_ASSIGN_OR_RETURN(std::string text, read_file(path));
  return parse_json(text, "'" + path + "'");
}

}  // namespace gantry
