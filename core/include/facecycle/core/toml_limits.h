// Bounds on TOML text checked before it reaches toml++.
//
// toml++ parses dotted keys, table headers and nested inline tables/arrays recursively: one
// request holding a key of 40,000 dotted parts, or a [k.k.k...] header of 50,000, overflows the
// stack and kills the process. Config text arrives over RPC, so every caller runs this cheap scan
// first. Header-only: the daemon and the trainer share it without a new link dependency.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fc {

struct TomlLimits {
  std::size_t max_bytes = 256 * 1024;  // configs are a few KB; 256 KB leaves ample room
  int max_key_parts = 32;              // a.b.c = 1, [a.b.c], [[a.b.c]]
  int max_nesting = 32;                // open [ and { at any point
};

namespace detail {

// Where a quoted string starting at text[i] ends (one past its closing quote), or npos when
// it is unterminated. Handles "...", '...', """...""" and '''...''' (escapes only in "-strings).
inline std::size_t toml_string_end(std::string_view text, std::size_t i) {
  const char q = text[i];
  const bool multi = text.compare(i, 3, std::string(3, q)) == 0;
  const std::size_t n = text.size();
  for (std::size_t j = i + (multi ? 3 : 1); j < n; ++j) {
    if (q == '"' && text[j] == '\\') {
      ++j;
      continue;
    }
    if (!multi && text[j] == '\n') return std::string_view::npos;
    if (text[j] != q) continue;
    if (!multi) return j + 1;
    if (text.compare(j, 3, std::string(3, q)) == 0) {
      // A multi-line string may end with up to two extra quotes: """a""""" is valid.
      std::size_t end = j + 3;
      while (end < n && end < j + 5 && text[end] == q) ++end;
      return end;
    }
  }
  return std::string_view::npos;
}

}  // namespace detail

// Empty when `text` is within the limits; otherwise why not, naming the line. Strings and
// comments are skipped, so dots and brackets inside them count for nothing. Dots are counted
// per token run (reset by newline, '=', ',' and brackets): a float has one, a dotted key or
// header one fewer than its parts, so the count bounds what toml++ would recurse on.
inline std::string toml_limits_problem(std::string_view text, const TomlLimits& lim = {}) {
  if (text.size() > lim.max_bytes)
    return "the TOML text is " + std::to_string(text.size()) + " bytes, more than the limit of " +
           std::to_string(lim.max_bytes);
  int line = 1, depth = 0, dots = 0;
  auto at = [&](const std::string& why) { return "line " + std::to_string(line) + ": " + why; };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"' || c == '\'') {
      std::size_t end = detail::toml_string_end(text, i);
      if (end == std::string_view::npos) return {};  // toml++ reports it, without recursing
      for (std::size_t j = i; j < end; ++j) line += text[j] == '\n';
      i = end - 1;
    } else if (c == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (c == '.') {
      if (++dots >= lim.max_key_parts)
        return at("a dotted key or table header has more than " +
                  std::to_string(lim.max_key_parts) + " parts");
    } else if (c == '[' || c == '{') {
      dots = 0;
      if (++depth > lim.max_nesting)
        return at("arrays, inline tables or header brackets are nested more than " +
                  std::to_string(lim.max_nesting) + " deep");
    } else if (c == ']' || c == '}') {
      dots = 0;
      if (depth > 0) --depth;
    } else if (c == '\n' || c == '=' || c == ',') {
      dots = 0;
      line += c == '\n';
    }
  }
  return {};
}

}  // namespace fc
