#include "data_dir_zones.h"

#include <sys/stat.h>

#include <cerrno>
#include <system_error>

namespace fcd {

namespace fs = std::filesystem;

namespace {

// A job folder's name: the id as the daemon writes it (digits, no sign or leading zero).
bool parse_job_id(const std::string& s, int64_t& id) {
  if (s.empty() || s.size() > 18 || s[0] == '0') return false;
  id = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    id = id * 10 + (c - '0');
  }
  return true;
}

}  // namespace

bool is_under(const fs::path& root, const fs::path& p) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (r->empty()) continue;  // trailing slash
    if (q == p.end() || *r != *q) return false;
  }
  return true;
}

bool data_dir_allows(const fs::path& data_dir, const fs::path& path, Access access,
                     const PathUser* user) {
  if (!user) return false;
  const fs::path rel = path.lexically_relative(data_dir);
  auto part = rel.begin();
  if (rel.empty() || part == rel.end() || *part == "." || *part == "..") return false;
  const std::string zone = part->string();
  // The zone's own folder lists every user's: only a folder below it belongs to someone.
  if (++part == rel.end() || part->empty()) return false;
  const std::string owner = part->string();
  if (zone == kJobsFolder) return jobs_dir_allows(data_dir / kJobsFolder, path, access, user);
  if (zone == kUserOutputsFolder)
    return owner == user->name || (access == Access::kRead && user->is_admin);
  return false;
}

bool jobs_dir_allows(const fs::path& jobs_dir, const fs::path& path, Access access,
                     const PathUser* user) {
  if (!user) return false;
  const fs::path rel = path.lexically_relative(jobs_dir);
  auto part = rel.begin();
  if (rel.empty() || part == rel.end() || *part == "." || *part == ".." || part->empty())
    return false;  // the folder itself lists every user's jobs
  // Job folders are the daemon's to write: a file planted in a future job's folder would be
  // read by that job (a checkpoint to resume from).
  int64_t id = 0;
  return access == Access::kRead && parse_job_id(part->string(), id) && user->may_read_job &&
         user->may_read_job(id);
}

void make_private_dirs_below(const fs::path& base, const fs::path& dir) {
  fs::path at = base;
  for (const auto& part : dir.lexically_relative(base)) {
    if (part.empty() || part == ".") continue;
    if (part == "..")
      throw fs::filesystem_error("not below " + base.string(), dir,
                                 std::make_error_code(std::errc::invalid_argument));
    at /= part;
    if (::mkdir(at.c_str(), 0700) != 0 && errno != EEXIST)
      throw fs::filesystem_error("cannot create folder", at,
                                 std::error_code(errno, std::generic_category()));
    // Also a folder an older daemon made under umask 022 (0755): the umask masked mkdir's mode.
    ::chmod(at.c_str(), 0700);
  }
}

}  // namespace fcd
