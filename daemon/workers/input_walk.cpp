#include "workers/input_walk.h"

#include <algorithm>
#include <filesystem>
#include <unordered_set>

#include "text_limits.h"

namespace fcd {

namespace fs = std::filesystem;

namespace {

struct Listing {
  std::vector<std::string> images;
  std::vector<fs::path> subdirs;  // as named in the folder (they may be symlinks)
};

Listing list_folder(const fs::path& dir) {
  Listing l;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (e.is_directory(ec))
      l.subdirs.push_back(e.path());
    else if (e.is_regular_file(ec) && has_image_extension(name))
      l.images.push_back(e.path().string());
  }
  std::sort(l.images.begin(), l.images.end());
  std::sort(l.subdirs.begin(), l.subdirs.end());
  return l;
}

}  // namespace

void expand_folder(const std::string& given, const std::string& dir, bool recursive,
                   const AllowedRoots& roots, std::vector<InputFile>& out,
                   std::vector<std::string>& warnings) {
  if (!recursive) {
    Listing l = list_folder(dir);
    for (auto& f : l.images) out.push_back({std::move(f), ""});
    if (l.images.empty())
      warnings.push_back(clip(given) + (l.subdirs.empty()
                                            ? ": folder holds no image files"
                                            : ": folder holds no image files, only sub-folders; "
                                              "add --recursive to include them"));
    return;
  }
  // Canonical folders already walked: a symlink back up the tree would walk forever.
  std::unordered_set<std::string> seen{dir};
  std::vector<std::pair<fs::path, std::string>> todo{{dir, ""}};
  const size_t before = out.size();
  while (!todo.empty()) {
    auto [d, rel] = std::move(todo.back());
    todo.pop_back();
    Listing l = list_folder(d);
    for (auto& f : l.images) out.push_back({std::move(f), rel});
    // Reversed, so the stack walks sub-folders in name order.
    for (auto it = l.subdirs.rbegin(); it != l.subdirs.rend(); ++it) {
      const std::string sub_rel = (fs::path(rel) / it->filename()).string();
      std::error_code ec;
      auto c = fs::canonical(*it, ec);
      if (ec || !roots.contains(c.string())) {
        warnings.push_back(clip(given + "/" + sub_rel) +
                           ": sub-folder outside the allowed folders; skipped");
      } else if (!seen.insert(c.string()).second) {
        warnings.push_back(clip(given + "/" + sub_rel) +
                           ": a folder already walked (symlink loop); skipped");
      } else {
        todo.emplace_back(c, sub_rel);
      }
    }
  }
  if (out.size() == before)
    warnings.push_back(clip(given) + ": folder and its sub-folders hold no image files");
}

}  // namespace fcd
