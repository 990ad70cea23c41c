// Base64 (RFC 4648): the standard alphabet with padding (HTTP Basic auth, Docker's config.json
// `auth` field) and the URL-safe alphabet without padding (JSON Web Tokens).
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace gantry {

std::string base64_encode(std::string_view data);
std::string base64url_encode(std::string_view data);  // no '=' padding

// Accepts both alphabets, with or without padding; whitespace is not allowed.
Result<std::string> base64_decode(std::string_view text);

}  // namespace gantry
