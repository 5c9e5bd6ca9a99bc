#include "paths.h"

#include <algorithm>
#include <filesystem>
#include <regex>

#include "text_limits.h"

namespace fcd {

namespace fs = std::filesystem;

namespace {

bool is_under(const fs::path& root, const fs::path& p) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (r->empty()) continue;  // trailing slash
    if (q == p.end() || *r != *q) return false;
  }
  return true;
}

std::string roots_hint(const std::vector<std::string>& roots) {
  std::string s;
  for (const auto& r : roots) s += (s.empty() ? "" : ", ") + r;
  return "allowed roots: " + (s.empty() ? std::string("none") : s) +
         " (start facecycled with --allow DIR to add one)";
}

}  // namespace

AllowedRoots::AllowedRoots(const std::vector<std::string>& roots) {
  for (const auto& r : roots) add(r);
}

void AllowedRoots::add(const std::string& root) {
  std::error_code ec;
  auto c = fs::canonical(root, ec);
  if (ec || !fs::is_directory(c, ec)) return;
  if (std::find(roots_.begin(), roots_.end(), c.string()) == roots_.end())
    roots_.push_back(c.string());
}

bool AllowedRoots::contains(const std::string& canonical_path) const {
  for (const auto& r : roots_)
    if (is_under(r, canonical_path)) return true;
  return false;
}

// Refuses a path that lies outside every root before looking at whether it exists, so the
// answer for a path outside the roots never tells whether the file is there.
void AllowedRoots::refuse_outside(const std::string& path) const {
  std::error_code ec;
  auto w = fs::weakly_canonical(fs::absolute(path), ec);
  if (ec || !contains(w.string()))
    throw PathError(clip(path) + ": outside the allowed folders; " + roots_hint(roots_));
}

// The canonical path of an existing file or folder (`folder`) inside a root.
std::string AllowedRoots::check_existing(const std::string& path, bool folder) const {
  refuse_outside(path);
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec)))
    throw PathError(clip(path) + (folder ? ": no such folder" : ": no such file"));
  auto c = fs::canonical(path, ec);
  if (ec) throw PathError(clip(path) + ": cannot resolve: " + ec.message());
  if (!contains(c.string()))
    throw PathError(clip(path) + ": outside the allowed folders; " + roots_hint(roots_));
  if (folder ? !fs::is_directory(c, ec) : !fs::is_regular_file(c, ec))
    throw PathError(clip(path) + (folder ? ": not a folder" : ": not a regular file"));
  return c.string();
}

std::string AllowedRoots::check_read(const std::string& path) const {
  return check_existing(path, false);
}

std::string AllowedRoots::check_read_dir(const std::string& path) const {
  return check_existing(path, true);
}

std::string AllowedRoots::check_output_dir(const std::string& path) const {
  if (path.empty()) throw PathError("no output folder given");
  std::error_code ec;
  auto w = fs::weakly_canonical(fs::absolute(path), ec);
  if (ec) throw PathError(clip(path) + ": cannot resolve: " + ec.message());
  if (!contains(w.string()))
    throw PathError(clip(path) + ": output folder outside the allowed folders; " +
                    roots_hint(roots_));
  fs::create_directories(w, ec);
  if (ec) throw PathError(clip(path) + ": cannot create folder: " + ec.message());
  auto c = fs::canonical(w, ec);  // again, now that it exists (a racing symlink)
  if (ec || !contains(c.string()) || !fs::is_directory(c))
    throw PathError(clip(path) + ": output folder outside the allowed folders; " +
                    roots_hint(roots_));
  return c.string();
}

std::string AllowedRoots::check_write(const std::string& path) const {
  fs::path p = fs::absolute(path);
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(p, ec)))
    throw PathError(clip(path) + ": refusing to write through a symlink");
  auto dir = fs::canonical(p.parent_path(), ec);
  if (ec) throw PathError(clip(path) + ": output folder missing: " + ec.message());
  if (!contains(dir.string()))
    throw PathError(clip(path) + ": outside the allowed folders; " + roots_hint(roots_));
  return (dir / p.filename()).string();
}

void make_private_dir(const std::string& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) {
    // A folder the user made keeps who may read it, but not who may write: `mkdir -p` under
    // umask 000 (quickstart.sh ran one) left the data dir 0777, so any local user could swap
    // the database or the socket for their own.
    fs::permissions(dir, fs::perms::group_write | fs::perms::others_write, fs::perm_options::remove,
                    ec);
    return;
  }
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
}

bool has_image_extension(const std::string& path) {
  static const std::vector<std::string> exts{".png",  ".jpg", ".jpeg", ".bmp",
                                             ".webp", ".tif", ".tiff"};
  std::string e = fs::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), ::tolower);
  return std::find(exts.begin(), exts.end(), e) != exts.end();
}

std::vector<std::string> list_image_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (e.is_regular_file(ec) && has_image_extension(name)) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

int remove_stale_temp_files(const std::string& dir) {
  // The pattern of fc::write_image_atomic's temporary names (core/src/image/image_io.cpp).
  static const std::regex tmp_re(R"(^\..+\.tmp-[0-9]+-.*$)");
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec)) continue;
    if (std::regex_match(e.path().filename().string(), tmp_re) && fs::remove(e.path(), ec)) ++n;
  }
  return n;
}

}  // namespace fcd
