#include "runtime/image/gzip_inflate.h"

#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

namespace gantry::runtime::image {

struct GzipInflater::State {
  inflate_state isal;
  bool in_member = false;  // a member was started and has not finished yet
  bool any_member = false;
};

GzipInflater::GzipInflater() : state_(std::make_unique<State>()) {}
GzipInflater::~GzipInflater() = default;

namespace {

std::string isal_message(int rc) {
  switch (rc) {
    case ISAL_INVALID_BLOCK: return "invalid block";
    case ISAL_INVALID_SYMBOL: return "invalid symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid lookback distance";
    case ISAL_INVALID_WRAPPER: return "invalid header";
    case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM: return "incorrect checksum";
    case ISAL_NEED_DICT: return "needs a preset dictionary";
    default: return "error " + std::to_string(rc);
  }
}

}  // namespace

Result<size_t> GzipInflater::inflate(std::string_view& in, char* out, size_t out_size) {
  State& s = *state_;
  size_t written = 0;
  while (written < out_size && !in.empty()) {
    if (!s.in_member) {
      // A new member must start here: a first one, or one concatenated after the last.
      if (in.size() >= 2 && !looks_like_gzip(in)) {
        return Error(ErrorCode::kInvalidArgument,
                     s.any_member ? "gzip: unexpected data after the end of the stream"
                                  : "gzip: not a gzip member");
      }
      isal_inflate_init(&s.isal);
      s.isal.crc_flag = ISAL_GZIP;
      s.in_member = true;
      s.any_member = true;
    }
    // ISA-L counts in 32 bits.
    constexpr size_t kMax = std::numeric_limits<uint32_t>::max();
    size_t in_now = std::min(in.size(), kMax);
    size_t out_now = std::min(out_size - written, kMax);
    s.isal.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in.data()));
    s.isal.avail_in = static_cast<uint32_t>(in_now);
    s.isal.next_out = reinterpret_cast<uint8_t*>(out + written);
    s.isal.avail_out = static_cast<uint32_t>(out_now);
    int rc = isal_inflate(&s.isal);
    size_t consumed = in_now - s.isal.avail_in;
    size_t produced = out_now - s.isal.avail_out;
    in.remove_prefix(consumed);
    written += produced;
    if (rc < 0) return Error(ErrorCode::kInvalidArgument, "gzip: " + isal_message(rc));
    if (rc == ISAL_NEED_DICT)
      return Error(ErrorCode::kInvalidArgument, "gzip: " + isal_message(rc));
    if (s.isal.block_state == ISAL_BLOCK_FINISH) {
      s.in_member = false;  // trailer checked; what follows must be another member
      continue;
    }
    if (consumed == 0 && produced == 0) break;  // needs more input (or more output room)
  }
  return written;
}

bool GzipInflater::at_member_end() const { return state_->any_member && !state_->in_member; }

}  // namespace gantry::runtime::image
