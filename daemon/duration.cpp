#include "duration.h"

#include <cctype>
#include <stdexcept>

#include "text_limits.h"

namespace fcd {

namespace {

int64_t unit_ms(char unit) {
  switch (unit) {
    case 's':
      return 1000;
    case 'm':
      return 60 * 1000;
    case 'h':
      return 3600 * 1000;
    case 'd':
      return int64_t{24} * 3600 * 1000;
    case 'w':
      return int64_t{7} * 24 * 3600 * 1000;
    default:
      return 0;
  }
}

}  // namespace

int64_t parse_duration_ms(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return std::invalid_argument("'" + clip(text) + "' " + why +
                                 ": write a number and a unit (s, m, h, d or w), e.g. 30d, 12h, "
                                 "90m or 45s");
  };
  if (text.size() < 2 || text.size() > 12) throw bad("is not a duration");
  const int64_t unit = unit_ms(text.back());
  if (unit == 0) throw bad("has no known unit");
  int64_t n = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) throw bad("is not a whole number");
    n = n * 10 + (text[i] - '0');
  }
  constexpr int64_t kTenYearsMs = int64_t{3650} * 24 * 3600 * 1000;
  if (n == 0) throw bad("is zero");
  if (n > kTenYearsMs / unit) throw bad("is more than 10 years");
  return n * unit;
}

}  // namespace fcd
