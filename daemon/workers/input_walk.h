// Expanding input folders into image files, optionally through sub-folders (--recursive).
#pragma once

#include <string>
#include <vector>

#include "paths.h"

namespace fcd {

struct InputFile {
  std::string path;     // as found in the walk; checked against the roots again per item
  std::string rel_dir;  // the sub-folder it came from, mirrored under the output folder
};

// The image files of folder `dir` (canonical, inside the roots), sorted by name; with
// `recursive`, also those of its sub-folders, depth first. A sub-folder that resolves outside
// the roots (a symlink escape) or to a folder already walked (a symlink loop) is skipped with a
// warning. Without `recursive`, a folder holding sub-folders but no image gets a warning that
// suggests --recursive.
void expand_folder(const std::string& given, const std::string& dir, bool recursive,
                   const AllowedRoots& roots, std::vector<InputFile>& out,
                   std::vector<std::string>& warnings);

}  // namespace fcd
