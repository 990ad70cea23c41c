#include "agent/masker.h"

#include <algorithm>

namespace gantry::agent {

StreamingMasker::StreamingMasker(std::vector<std::string> values) {
  for (auto& v : values) {
    if (!v.empty()) values_.push_back(std::move(v));
  }
  std::sort(values_.begin(), values_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  values_.erase(std::unique(values_.begin(), values_.end()), values_.end());
}

std::string StreamingMasker::feed(std::string_view chunk) {
  if (values_.empty()) return std::string(chunk);
  pending_.append(chunk);
  std::string out;
  out.reserve(pending_.size());
  std::string_view p = pending_;
  size_t i = 0;
  size_t emitted_to = 0;  // p[emitted_to, i) are plain bytes not yet copied
  while (i < p.size()) {
    std::string_view rest = p.substr(i);
    bool matched = false;
    bool partial = false;
    for (const auto& v : values_) {  // longest first: the first full match is the longest
      if (rest.size() >= v.size()) {
        if (rest.compare(0, v.size(), v) == 0) {
          if (partial) break;  // a longer value may still complete here: wait for more bytes
          out.append(p.substr(emitted_to, i - emitted_to));
          out.append(kMaskedText);
          i += v.size();
          emitted_to = i;
          matched = true;
          break;
        }
      } else if (v.compare(0, rest.size(), rest) == 0) {
        partial = true;  // the tail could be the start of `v`
      }
    }
    if (matched) continue;
    if (partial) break;
    ++i;
  }
  out.append(p.substr(emitted_to, i - emitted_to));
  pending_.erase(0, i);
  return out;
}

std::string StreamingMasker::finish() {
  // No value can complete any more; but a shorter value may still be inside the held bytes.
  std::string held = std::move(pending_);
  pending_.clear();
  std::string out;
  std::string_view p = held;
  size_t i = 0;
  size_t emitted_to = 0;
  while (i < p.size()) {
    bool matched = false;
    for (const auto& v : values_) {
      if (p.substr(i).substr(0, v.size()) == v) {
        out.append(p.substr(emitted_to, i - emitted_to));
        out.append(kMaskedText);
        i += v.size();
        emitted_to = i;
        matched = true;
        break;
      }
    }
    if (!matched) ++i;
  }
  out.append(p.substr(emitted_to));
  return out;
}

std::string mask_all(std::string_view text, const std::vector<std::string>& values) {
  StreamingMasker m(values);
  std::string out = m.feed(text);
  out += m.finish();
  return out;
}

}  // namespace gantry::agent
