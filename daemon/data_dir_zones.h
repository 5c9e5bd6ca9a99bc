// What a job may reach inside the daemon's data dir. The data dir holds the database, the socket,
// logs, crash notes, the models folder and every user's job folders, so it is never an allowed
// root as a whole (not even when an --allow root contains it). A request reaches only
//   <data-dir>/jobs/<id>/...       to read, when its user may see job <id> (owner or admin);
//   <data-dir>/outputs/<user>/...  to read and write, when it is <user>'s (admins read all).
// Everything else there is refused to everyone, admins and the local user included.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace fcd {

enum class Access { kRead, kWrite };

// Who a path check is for.
struct PathUser {
  std::string name;
  bool is_admin = false;
  // Whether this user may read job `id`'s folder. Must answer alike for another user's job and
  // a missing one, so that a refusal does not tell which job ids exist.
  std::function<bool(int64_t id)> may_read_job;
};

// Where a user's outputs may go inside the data dir.
inline const char* kUserOutputsFolder = "outputs";
inline const char* kJobsFolder = "jobs";

// Whether `p` is `root` or lies below it, component by component (both absolute and normal).
bool is_under(const std::filesystem::path& root, const std::filesystem::path& p);

// Whether `user` (null: nobody) may reach `path` with `access`. Both paths are canonical and
// `path` lies inside `data_dir`.
bool data_dir_allows(const std::filesystem::path& data_dir, const std::filesystem::path& path,
                     Access access, const PathUser* user);

// The same inside a jobs folder (<data-dir>/jobs, or a `jobs_dir` elsewhere that daemons
// share): only <jobs_dir>/<id>/... to read, when `user` may see job <id>. Both paths are
// canonical and `path` lies inside `jobs_dir`.
bool jobs_dir_allows(const std::filesystem::path& jobs_dir, const std::filesystem::path& path,
                     Access access, const PathUser* user);

// Creates `dir` and its missing parents below `base` (which exists), and makes each of them
// mode 0700 whatever the umask: a job or output folder in the data dir is its user's alone.
// Throws std::filesystem::filesystem_error.
void make_private_dirs_below(const std::filesystem::path& base, const std::filesystem::path& dir);

}  // namespace fcd
