#include "paths.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include "text_limits.h"

namespace fcd {

namespace fs = std::filesystem;

namespace {

// A canonical path when `dir` exists, else its absolute normal form.
std::string canonical_or_absolute(const std::string& dir) {
  std::error_code ec;
  auto c = fs::canonical(dir, ec);
  return ec ? fs::absolute(dir).lexically_normal().string() : c.string();
}

std::string roots_hint(const std::vector<std::string>& roots, const std::string& data_dir,
                       const std::string& jobs_dir, const PathUser* user) {
  std::string s;
  for (const auto& r : roots)
    if ((data_dir.empty() || !is_under(data_dir, r)) &&
        (jobs_dir.empty() || !is_under(jobs_dir, r)))
      s += (s.empty() ? "" : ", ") + r;
  s = "allowed roots: " + (s.empty() ? std::string("none") : s) +
      " (start facecycled with --allow DIR to add one)";
  if (!data_dir.empty())
    s += "; in the data dir only " + (jobs_dir.empty() ? data_dir + "/" + kJobsFolder : jobs_dir) +
         "/ID of your own jobs and " + data_dir + "/" + kUserOutputsFolder + "/" +
         (user ? user->name : std::string("USER")) + "/";
  return s;
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

void AllowedRoots::set_data_dir(const std::string& dir) { data_dir_ = canonical_or_absolute(dir); }

void AllowedRoots::set_jobs_dir(const std::string& dir) {
  const std::string jobs = canonical_or_absolute(dir);
  jobs_dir_ = !data_dir_.empty() && is_under(data_dir_, jobs) ? "" : jobs;
}

AllowedRoots AllowedRoots::for_user(PathUser user) const {
  AllowedRoots view = *this;
  view.user_ = std::make_shared<const PathUser>(std::move(user));
  return view;
}

bool AllowedRoots::contains(const std::string& canonical_path, Access access) const {
  // The data dir decides for everything inside it, even under a root that holds it (--allow
  // $HOME): that root would hand out the database and every user's job folders.
  if (!data_dir_.empty() && is_under(data_dir_, canonical_path)) {
    for (const auto& r : roots_)
      if (r != data_dir_ && is_under(data_dir_, r) && is_under(r, canonical_path)) return true;
    return data_dir_allows(data_dir_, canonical_path, access, user_.get());
  }
  // The same for a jobs_dir outside it: a root holding it would hand out every user's jobs.
  if (!jobs_dir_.empty() && is_under(jobs_dir_, canonical_path))
    return jobs_dir_allows(jobs_dir_, canonical_path, access, user_.get());
  for (const auto& r : roots_)
    if (is_under(r, canonical_path)) return true;
  return false;
}

void AllowedRoots::refuse(const std::string& path, const std::string& what) const {
  throw PathError(clip(path) + ": " + what + "outside the allowed folders; " +
                  roots_hint(roots_, data_dir_, jobs_dir_, user_.get()));
}

// Refuses a path that lies outside every root before looking at whether it exists, so the
// answer for a path outside the roots never tells whether the file is there.
void AllowedRoots::refuse_outside(const std::string& path, Access access) const {
  std::error_code ec;
  auto w = fs::weakly_canonical(fs::absolute(path), ec);
  if (ec || !contains(w.string(), access)) refuse(path, "");
}

// The canonical path of an existing file or folder (`folder`) inside a root.
std::string AllowedRoots::check_existing(const std::string& path, bool folder) const {
  refuse_outside(path, Access::kRead);
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec)))
    throw PathError(clip(path) + (folder ? ": no such folder" : ": no such file"));
  auto c = fs::canonical(path, ec);
  if (ec) throw PathError(clip(path) + ": cannot resolve: " + ec.message());
  if (!contains(c.string())) refuse(path, "");
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
  if (!contains(w.string(), Access::kWrite)) refuse(path, "output folder ");
  try {
    create_output_dir(w.string());
  } catch (const fs::filesystem_error& e) {
    throw PathError(clip(path) + ": cannot create folder: " + e.code().message());
  }
  auto c = fs::canonical(w, ec);  // again, now that it exists (a racing symlink)
  if (ec || !contains(c.string(), Access::kWrite) || !fs::is_directory(c))
    refuse(path, "output folder ");
  return c.string();
}

// Folders made inside the data dir are their user's alone (0700); elsewhere they follow the
// umask, since an allowed root is a folder the team shares.
void AllowedRoots::create_output_dir(const std::string& canonical) const {
  if (!data_dir_.empty() && is_under(data_dir_, canonical))
    make_private_dirs_below(data_dir_, canonical);
  else
    fs::create_directories(canonical);
}

std::string AllowedRoots::check_write(const std::string& path) const {
  fs::path p = fs::absolute(path);
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(p, ec)))
    throw PathError(clip(path) + ": refusing to write through a symlink");
  auto dir = fs::canonical(p.parent_path(), ec);
  if (ec) throw PathError(clip(path) + ": output folder missing: " + ec.message());
  if (!contains(dir.string(), Access::kWrite)) refuse(path, "");
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

namespace {

// The writer's PID in a temporary name ".NAME.tmp-PID-..."; none when it is not one.
std::optional<long> temp_file_writer(const std::string& name) {
  // The pattern of fc::write_image_atomic's temporary names (core/src/image/image_io.cpp).
  static const std::regex tmp_re(R"(^\..+\.tmp-([0-9]+)-.*$)");
  std::smatch m;
  if (!std::regex_match(name, m, tmp_re)) return std::nullopt;
  return std::strtol(m[1].str().c_str(), nullptr, 10);
}

// The file NAME whose atomic write left the temporary ".NAME.tmp-PID-...", or "". publish_file
// stages in such a name and writes it with fc::write_image_atomic, whose own temporary is
// "..NAME.tmp-PID-pubN.tmp-PID-M": a daemon killed inside that write leaves one of those.
std::string temp_file_target(const std::string& f) {
  const size_t tmp = f.rfind(".tmp-");
  if (f.size() < 2 || f[0] != '.' || tmp == std::string::npos || tmp < 2) return "";
  const std::string target = f.substr(1, tmp - 1);
  const std::string staged_for = temp_file_target(target);
  return staged_for.empty() ? target : staged_for;
}

int remove_temp_files_if(const std::string& dir,
                         const std::function<bool(const fs::directory_entry&, long)>& stale) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec)) continue;
    auto pid = temp_file_writer(e.path().filename().string());
    if (pid && stale(e, *pid) && fs::remove(e.path(), ec)) ++n;
  }
  return n;
}

}  // namespace

int remove_stale_temp_files(const std::string& dir) {
  return remove_temp_files_if(dir, [](const fs::directory_entry&, long) { return true; });
}

int remove_stale_temp_files(const std::string& dir, std::chrono::seconds min_age) {
  return remove_temp_files_if(dir, [&](const fs::directory_entry& e, long pid) {
    if (pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) return false;
    std::error_code ec;
    auto age = fs::file_time_type::clock::now() - fs::last_write_time(e.path(), ec);
    return !ec && age > min_age;
  });
}

int remove_temp_files_of(const std::vector<std::string>& targets) {
  std::map<fs::path, std::set<std::string>> names_by_dir;
  for (const auto& t : targets)
    if (!t.empty()) names_by_dir[fs::path(t).parent_path()].insert(fs::path(t).filename().string());
  int n = 0;
  // Not a structured binding: C++17 lambdas may not capture one (clang refuses; gcc allows).
  for (const auto& entry : names_by_dir) {
    const std::set<std::string>& names = entry.second;
    n += remove_temp_files_if(entry.first.string(), [&](const fs::directory_entry& e, long) {
      return names.count(temp_file_target(e.path().filename().string())) > 0;
    });
  }
  return n;
}

}  // namespace fcd
