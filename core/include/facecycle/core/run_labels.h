// A training run's name and tags (`facecycle train --name --tag`, or run_name/tags in its
// config). They are shown in tables, the dashboard and file names of comparisons, so they are
// short and printable. Header-only: the trainer checks its config with it, the daemon requests.
#pragma once

#include <string>
#include <vector>

namespace fc {

inline constexpr std::size_t kMaxRunNameBytes = 80;
inline constexpr std::size_t kMaxTagBytes = 40;
inline constexpr std::size_t kMaxTags = 16;

// "" when `name` may name a run, else why not. An empty name is allowed (no name).
inline std::string run_name_problem(const std::string& name) {
  if (name.size() > kMaxRunNameBytes)
    return "is " + std::to_string(name.size()) + " bytes; a run name has at most " +
           std::to_string(kMaxRunNameBytes);
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return "holds a control character; use printable text";
  return "";
}

// Tags are words: letters, digits and . _ - : = (e.g. "lr=2e-4", "ablation", "v14").
inline std::string tags_problem(const std::vector<std::string>& tags) {
  if (tags.size() > kMaxTags)
    return "has " + std::to_string(tags.size()) + " tags; at most " + std::to_string(kMaxTags);
  for (const auto& t : tags) {
    if (t.empty() || t.size() > kMaxTagBytes)
      return "tag \"" + t.substr(0, kMaxTagBytes) + "\" must be 1 to " +
             std::to_string(kMaxTagBytes) + " bytes";
    for (unsigned char c : t) {
      const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == ':' ||
                        c == '=';
      if (!word) return "tag \"" + t + "\" may hold only letters, digits and . _ - : =";
    }
  }
  return "";
}

}  // namespace fc
