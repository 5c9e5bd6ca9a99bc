// Splitting a line of metrics.csv (or a list like "1,2,3") into its fields. Header-only: the
// trainer writes and re-reads metrics.csv, the daemon's dashboard and the client read it.
#pragma once

#include <string_view>
#include <vector>

namespace fc {

// Every field between separators, empty ones included ("a,,b," -> a, "", b, ""); the views
// point into `text`.
inline std::vector<std::string_view> split_fields(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  for (size_t at = 0;;) {
    const size_t next = text.find(sep, at);
    out.push_back(text.substr(at, next == std::string_view::npos ? next : next - at));
    if (next == std::string_view::npos) return out;
    at = next + 1;
  }
}

}  // namespace fc
