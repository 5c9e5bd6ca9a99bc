// A training job's folder (<jobs_dir>/<id>, by default <data dir>/jobs/<id>) as the API serves it:
// its samples, loss curves and model to users who may not share the daemon's file system (TCP).
// Only regular files inside the folder are served; a path that leads out of it, by "..", an
// absolute name or a symlink, is refused.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace fcd {

struct JobFileError : std::runtime_error {
  enum Kind { kRefused, kMissing, kTooLarge };
  JobFileError(Kind k, const std::string& msg) : std::runtime_error(msg), kind(k) {}
  Kind kind;
};

struct JobFileEntry {
  std::string path;  // relative to the job's folder
  int64_t size = 0;
  int64_t modified_ms = 0;
};

std::string job_folder(const std::string& jobs_dir, int64_t job_id);

// Empty, or why the folder of a job that ran on another daemon (`result_json`'s ran_on, not
// `node`) is not here: that daemon's jobs_dir is not one this daemon sees.
std::string folder_elsewhere(const std::string& result_json, const std::string& node,
                             const std::string& dir, int64_t job_id);

// The regular files at the folder's top level and in model/, sorted by path. Other sub-folders
// (the trainer's checkpoints and generated data, thousands of files) are left out of the list
// but can still be fetched by name. Empty when the folder does not exist.
std::vector<JobFileEntry> list_job_files(const std::string& dir);

// An open read-only descriptor of `rel` inside `dir`, and its size. Throws JobFileError:
// kRefused outside the folder or not a regular file, kMissing when absent, kTooLarge above
// max_bytes.
int open_job_file(const std::string& dir, const std::string& rel, int64_t max_bytes, int64_t& size);

}  // namespace fcd
