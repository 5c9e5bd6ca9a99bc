// Allowed roots: the only folders the daemon reads inputs from and writes outputs to.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "data_dir_zones.h"

namespace fcd {

struct PathError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class AllowedRoots {
 public:
  // Roots that do not exist are skipped (they cannot hold anything yet).
  explicit AllowedRoots(const std::vector<std::string>& roots = {});
  void add(const std::string& root);
  const std::vector<std::string>& roots() const { return roots_; }
  // The daemon's data dir: inside it only the zones of data_dir_zones.h are reachable, whatever
  // root contains it. A root strictly inside it (a models folder, for warm_start) stays a root.
  void set_data_dir(const std::string& dir);
  const std::string& data_dir() const { return data_dir_; }
  // The job folders' home when it is not <data dir>/jobs (a jobs_dir the daemons share): inside
  // it only the jobs rule of data_dir_zones.h holds, whatever root contains it.
  void set_jobs_dir(const std::string& dir);
  // A copy that checks paths for `user`; without one, nothing inside the data dir is reachable.
  AllowedRoots for_user(PathUser user) const;

  // The canonical path of an existing regular file inside a root (symlinks and ".." resolved
  // first, so escapes are refused). Throws PathError with a user-facing message.
  std::string check_read(const std::string& path) const;
  // The canonical path of an existing folder inside a root (to read from). Throws PathError.
  std::string check_read_dir(const std::string& path) const;
  // The canonical path of a folder inside a root, created when missing.
  std::string check_output_dir(const std::string& path) const;
  // A file to be written: its folder must be inside a root and it must not be a symlink.
  std::string check_write(const std::string& path) const;

  bool contains(const std::string& canonical_path, Access access = Access::kRead) const;

 private:
  void refuse_outside(const std::string& path, Access access) const;
  std::string check_existing(const std::string& path, bool folder) const;
  [[noreturn]] void refuse(const std::string& path, const std::string& what) const;
  void create_output_dir(const std::string& canonical) const;
  std::vector<std::string> roots_;  // canonical
  std::string data_dir_;            // canonical; empty: none
  std::string jobs_dir_;            // canonical; empty: none outside the data dir
  std::shared_ptr<const PathUser> user_;
};

// Creates `dir` (and missing parents) when missing; a folder it creates is mode 0700 whatever
// the umask (the data and models folders: other users' photos and models). Throws
// std::filesystem::filesystem_error.
void make_private_dir(const std::string& dir);

// Image files directly inside a folder (by extension), sorted by name.
std::vector<std::string> list_image_files(const std::string& dir);
bool has_image_extension(const std::string& path);

// Removes leftovers of interrupted atomic writes (".NAME.tmp-PID-...") in a folder.
int remove_stale_temp_files(const std::string& dir);
// The same for a folder that other daemons may be writing into (a shared job store): keeps a
// file whose writer PID is alive on this host, or that is younger than min_age (its writer may
// be on another host).
int remove_stale_temp_files(const std::string& dir, std::chrono::seconds min_age);
// Removes the temporary files of atomic writes to these targets (".NAME.tmp-*" beside each),
// whoever wrote them: for a job whose items have all ended, no daemon still writes them.
int remove_temp_files_of(const std::vector<std::string>& targets);

}  // namespace fcd
