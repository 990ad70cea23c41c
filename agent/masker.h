// StreamingMasker: replaces every occurrence of secret values with "[MASKED]" in a byte stream
// that arrives in chunks, also when a value is split across chunks: bytes that could be the
// start of a value are held back (lookbehind) until the next chunk or finish() decides.
// Where values overlap at one position the longest wins. Used by the JobExecutor on everything
// that reaches the LogSink. PURE; one object per stream, not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gantry::agent {

inline constexpr std::string_view kMaskedText = "[MASKED]";

class StreamingMasker {
 public:
  // Empty values are ignored (they would match everywhere).
  explicit StreamingMasker(std::vector<std::string> values);

  // Feeds the next chunk; returns what can be emitted now (possibly empty).
  std::string feed(std::string_view chunk);
  // Ends the stream: returns the held-back bytes (masked if they complete a value; they can't).
  std::string finish();

  bool active() const { return !values_.empty(); }

 private:
  std::vector<std::string> values_;  // longest first
  std::string pending_;
};

// Masks a whole string at once (for messages and errors that end the log).
std::string mask_all(std::string_view text, const std::vector<std::string>& values);

}  // namespace gantry::agent
