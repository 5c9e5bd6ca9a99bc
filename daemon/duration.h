// Durations typed by people: "30d", "12h", "90m", "45s", "2w".
#pragma once

#include <cstdint>
#include <string>

namespace fcd {

// Milliseconds; throws std::invalid_argument saying how to write one. At most 10 years.
int64_t parse_duration_ms(const std::string& text);

}  // namespace fcd
