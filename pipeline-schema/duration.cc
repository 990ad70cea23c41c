#include "pipeline-schema/duration.h"

#include <cctype>
#include <cmath>
#include <string>

namespace gantry::schema {

namespace {

std::optional<double> unit_seconds(const std::string& u) {
  struct Unit {
    const char* names[6];
    double seconds;
  };
  static const Unit kUnits[] = {
      {{"s", "sec", "secs", "second", "seconds", nullptr}, 1},
      {{"m", "min", "mins", "minute", "minutes", nullptr}, 60},
      {{"h", "hr", "hrs", "hour", "hours", nullptr}, 3600},
      {{"d", "day", "days", nullptr}, 86400},
      {{"w", "wk", "wks", "week", "weeks", nullptr}, 604800},
      {{"mo", "mos", "mon", "month", "months", nullptr}, 2592000},
      {{"y", "yr", "yrs", "year", "years", nullptr}, 31557600},
  };
  for (const auto& unit : kUnits)
    for (const char* const* n = unit.names; *n != nullptr; ++n)
      if (u == *n) return unit.seconds;
  return std::nullopt;
}

}  // namespace

std::optional<std::int64_t> parse_duration(std::string_view text) {
  double total = 0;
  bool any = false;
  std::size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && (std::isspace(static_cast<unsigned char>(text[i])) || text[i] == ','))
      ++i;
  };
  skip_space();
  while (i < text.size()) {
    // "and" between parts, as in "1 hour and 30 minutes".
    if (text.substr(i, 3) == "and" &&
        (i + 3 == text.size() || std::isspace(static_cast<unsigned char>(text[i + 3])))) {
      i += 3;
      skip_space();
      continue;
    }
    std::size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (start == i) return std::nullopt;
    std::string number(text.substr(start, i - start));
    if (number == "." || number.find('.') != number.rfind('.')) return std::nullopt;
    double value = std::stod(number);
    while (i < text.size() && text[i] == ' ') ++i;
    std::size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit(text.substr(ustart, i - ustart));
    for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    double scale = 1;
    if (!unit.empty()) {
      auto s = unit_seconds(unit);
      if (!s) return std::nullopt;
      scale = *s;
    }
    total += value * scale;
    any = true;
    skip_space();
  }
  if (!any) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(total));
}

}  // namespace gantry::schema
