// Aligned text tables for listings (`gantry image ls`, `gantry runtime list`, the client
// commands). PURE; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace gantry {

// Columns padded to their widest cell and `gap` spaces apart, the last column unpadded, trailing
// spaces trimmed; one line per row (the header first), each ending in '\n'. Rows shorter than
// the header get empty cells; cells past the header's count are dropped.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows, size_t gap = 2);

}  // namespace gantry
