#include "service/job_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace fcd {

namespace fs = std::filesystem;

namespace {

void add_files(const fs::path& base, const fs::path& sub, std::vector<JobFileEntry>& out) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(base / sub, ec)) {
    // symlink_status: a link is not served in the list even when it points inside.
    if (!fs::is_regular_file(e.symlink_status(ec))) continue;
    struct stat st {};
    if (::lstat(e.path().c_str(), &st) != 0) continue;
    out.push_back({(sub / e.path().filename()).string(), static_cast<int64_t>(st.st_size),
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000});
  }
}

bool inside(const fs::path& base, const fs::path& p) {
  fs::path rel = p.lexically_relative(base);
  return !rel.empty() && *rel.begin() != ".." && rel != ".";
}

}  // namespace

std::string job_folder(const std::string& jobs_dir, int64_t job_id) {
  return (fs::path(jobs_dir) / std::to_string(job_id)).string();
}

std::string folder_elsewhere(const std::string& result_json, const std::string& node,
                             const std::string& dir, int64_t job_id) {
  std::error_code ec;
  if (fs::exists(dir, ec)) return "";
  const auto result =
      nlohmann::json::parse(result_json.empty() ? "{}" : result_json, nullptr, false);
  const std::string ran_on = result.is_object() ? result.value("ran_on", "") : "";
  if (ran_on.empty() || ran_on == node) return "";
  return "job " + std::to_string(job_id) + " ran on the daemon at " + ran_on +
         ", whose job folders this daemon does not see: ask that daemon (facecycle --server "
         "ITS_ADDRESS ...), or give all daemons one jobs_dir on shared storage (docs/SCALE.md)";
}

std::vector<JobFileEntry> list_job_files(const std::string& dir) {
  std::vector<JobFileEntry> out;
  add_files(dir, "", out);
  add_files(dir, "model", out);
  std::sort(out.begin(), out.end(),
            [](const JobFileEntry& a, const JobFileEntry& b) { return a.path < b.path; });
  return out;
}

int open_job_file(const std::string& dir, const std::string& rel, int64_t max_bytes,
                  int64_t& size) {
  const fs::path r(rel);
  if (rel.empty() || r.is_absolute() || rel.find('\0') != std::string::npos)
    throw JobFileError(JobFileError::kRefused,
                       "'" + rel + "' is not a file name inside the job's folder");
  for (const auto& part : r)
    if (part == "..")
      throw JobFileError(JobFileError::kRefused, "'" + rel + "' leads out of the job's folder");
  std::error_code ec;
  const fs::path base = fs::canonical(dir, ec);
  if (ec) throw JobFileError(JobFileError::kMissing, "the job has no folder on the daemon");
  const fs::path target = fs::canonical(base / r, ec);
  if (ec) throw JobFileError(JobFileError::kMissing, "no file '" + rel + "' in the job's folder");
  // canonical() has followed every link: what it names must still lie inside.
  if (!inside(base, target))
    throw JobFileError(JobFileError::kRefused, "'" + rel + "' leads out of the job's folder");
  int fd = ::open(target.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    throw JobFileError(errno == ENOENT ? JobFileError::kMissing : JobFileError::kRefused,
                       "cannot open '" + rel + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw JobFileError(JobFileError::kRefused, "'" + rel + "' is not a regular file");
  }
  if (st.st_size > max_bytes) {
    ::close(fd);
    throw JobFileError(JobFileError::kTooLarge, "'" + rel + "' has " + std::to_string(st.st_size) +
                                                    " bytes, more than the daemon serves (" +
                                                    std::to_string(max_bytes) +
                                                    "); copy it on the server");
  }
  size = st.st_size;
  return fd;
}

}  // namespace fcd
