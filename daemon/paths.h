// Allowed roots: the only folders the daemon reads inputs from and writes outputs to.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

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

  // The canonical path of an existing regular file inside a root (symlinks and ".." resolved
  // first, so escapes are refused). Throws PathError with a user-facing message.
  std::string check_read(const std::string& path) const;
  // The canonical path of an existing folder inside a root (to read from). Throws PathError.
  std::string check_read_dir(const std::string& path) const;
  // The canonical path of a folder inside a root, created when missing.
  std::string check_output_dir(const std::string& path) const;
  // A file to be written: its folder must be inside a root and it must not be a symlink.
  std::string check_write(const std::string& path) const;

  bool contains(const std::string& canonical_path) const;

 private:
  void refuse_outside(const std::string& path) const;
  std::string check_existing(const std::string& path, bool folder) const;
  std::vector<std::string> roots_;  // canonical
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

}  // namespace fcd
