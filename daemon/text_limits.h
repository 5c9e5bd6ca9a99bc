// User-given values quoted in error texts are clipped: a 100 KB value repeated whole in every
// message bloats replies, events and logs, and one request could multiply it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fcd {

inline constexpr std::size_t kMaxQuotedValue = 200;

// `s`, or its first `max` bytes (never half a UTF-8 character: protobuf strings must stay valid
// UTF-8) and how long it was.
inline std::string clip(std::string_view s, std::size_t max = kMaxQuotedValue) {
  if (s.size() <= max) return std::string(s);
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "... (" + std::to_string(s.size()) + " bytes)";
}

}  // namespace fcd
