// SHA-1, only where a compatible value needs it: GitLab's cache:key:files key is the SHA-1 of
// commit ids. Never for content addressing (that is common/digest.h's SHA-256). Implemented in
// common/digest.cc, the OpenSSL adapter. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace gantry {

// SHA-1 of `data` as 40 lowercase hex digits.
std::string sha1_hex(std::string_view data);

}  // namespace gantry
