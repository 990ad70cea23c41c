#include "agent/run_output.h"

#include <algorithm>
#include <cstdio>

namespace gantry::agent {

namespace {

// Bold foreground colours that read on dark and light terminals: cyan, magenta, yellow, blue,
// green, red, then their normal-weight forms.
constexpr const char* kColours[] = {"1;36", "1;35", "1;33", "1;34", "1;32", "1;31",
                                    "36",   "35",   "33",   "34",   "32",   "31"};
constexpr int kColourCount = sizeof(kColours) / sizeof(kColours[0]);

}  // namespace

std::string strip_ansi(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\x1b') {
      out += s[i];
      continue;
    }
    if (i + 1 < s.size() && s[i + 1] == '[') {
      size_t j = i + 2;
      while (j < s.size() && !(s[j] >= 0x40 && s[j] <= 0x7e)) ++j;
      i = j;  // the final byte (a letter) is dropped too
    } else if (i + 1 < s.size() && s[i + 1] == ']') {
      size_t j = i + 2;
      while (j < s.size() && s[j] != '\a' && !(s[j] == '\x1b' && j + 1 < s.size())) ++j;
      if (j < s.size() && s[j] == '\x1b') ++j;  // ESC \ terminator
      i = j;
    } else {
      ++i;  // a two-byte escape
    }
  }
  return out;
}

PrefixedOutput::PrefixedOutput(Writer out, const std::vector<std::string>& job_names, bool color)
    : out_(std::move(out)), color_(color) {
  int n = 0;
  for (const auto& name : job_names) {
    width_ = std::max(width_, name.size());
    colour_of_.emplace(name, n++ % kColourCount);
  }
}

std::string PrefixedOutput::prefix(std::string_view job) const {
  std::string name(job);
  if (name.size() < width_) name.append(width_ - name.size(), ' ');
  if (!color_) return name + " | ";
  auto it = colour_of_.find(job);
  const char* colour = kColours[it == colour_of_.end() ? 0 : it->second];
  return std::string("\x1b[") + colour + "m" + name + " |\x1b[0m ";
}

void PrefixedOutput::emit_line(std::string_view job, std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // A carriage return inside a line is a progress bar redrawing itself: keep the last state.
  if (auto cr = line.rfind('\r'); cr != std::string_view::npos) line.remove_prefix(cr + 1);
  std::string text = prefix(job);
  if (color_) {
    text.append(line);
    text += "\x1b[0m";  // a colour the job left on does not leak into the next prefix
  } else {
    text += strip_ansi(line);
  }
  text += '\n';
  out_(text);
}

void PrefixedOutput::write(std::string_view job, std::string_view bytes) {
  std::lock_guard g(mu_);
  auto it = partial_.find(job);
  if (it == partial_.end()) it = partial_.emplace(std::string(job), std::string()).first;
  std::string& pending = it->second;
  pending.append(bytes);
  size_t start = 0;
  for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
    emit_line(job, std::string_view(pending).substr(start, nl - start));
  }
  pending.erase(0, start);
}

void PrefixedOutput::end_job(std::string_view job) {
  std::lock_guard g(mu_);
  auto it = partial_.find(job);
  if (it == partial_.end() || it->second.empty()) return;
  emit_line(job, it->second);
  it->second.clear();
}

void PrefixedOutput::note(std::string_view job, std::string_view line) {
  std::lock_guard g(mu_);
  std::string text = prefix(job);
  text += color_ ? "\x1b[1m" + std::string(line) + "\x1b[0m" : std::string(line);
  text += '\n';
  out_(text);
}

void PrefixedOutput::message(std::string_view line) {
  std::lock_guard g(mu_);
  std::string text(line);
  text += '\n';
  out_(text);
}

std::string format_duration(double seconds) {
  char buf[32];
  if (seconds < 0) seconds = 0;
  if (seconds < 1) {
    std::snprintf(buf, sizeof buf, "%.0fms", seconds * 1000);
  } else if (seconds < 10) {
    std::snprintf(buf, sizeof buf, "%.2fs", seconds);
  } else if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  } else if (seconds < 3600) {
    long s = static_cast<long>(seconds);
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  } else {
    long m = static_cast<long>(seconds) / 60;
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", m / 60, m % 60);
  }
  return buf;
}

std::string render_summary(const std::vector<SummaryRow>& rows) {
  std::vector<std::vector<std::string>> cells;
  cells.push_back({"job", "stage", "status", "duration", ""});
  for (const auto& r : rows) {
    cells.push_back({r.job, r.stage, r.status, r.seconds ? format_duration(*r.seconds) : "-",
                     r.note});
  }
  size_t widths[4] = {0, 0, 0, 0};
  for (const auto& row : cells) {
    for (size_t c = 0; c < 4; ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (const auto& row : cells) {
    std::string line;
    for (size_t c = 0; c < 4; ++c) {
      line += row[c];
      if (c < 3 || !row[4].empty()) line.append(widths[c] - row[c].size() + 2, ' ');
    }
    line += row[4];
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace gantry::agent
