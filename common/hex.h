// Lowercase hex of bytes and back, and random hex ids and tokens. Apart from common/digest.h so
// that what needs no OpenSSL (the static runtime front, the seccomp cache) can use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gantry {

std::string to_hex(const uint8_t* data, size_t size);
// The value of one hex digit (either case), or -1.
int hex_digit_value(char c);
// Decodes exactly `size` bytes from `hex` (2 * size digits) into `out`; false if it is not that.
bool from_hex(std::string_view hex, uint8_t* out, size_t size);
// `bytes` bytes from the kernel's random source (getrandom; blocks only until it is seeded,
// early at boot), as 2 * bytes lowercase hex digits.
std::string random_hex(size_t bytes);

}  // namespace gantry
