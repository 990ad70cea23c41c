// Small string helpers shared by every component. PURE; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gantry {

// `s` without the ASCII whitespace (space, \t, \n, \r, \v, \f) at either end. A view into `s`:
// keep what it views alive while the result is used.
std::string_view trim(std::string_view s);

// The fields of `text` between `sep`s, empty fields left out: `git ls-files -z` output
// ("a\0b\0" → a, b).
std::vector<std::string> split_nonempty(std::string_view text, char sep);

}  // namespace gantry
