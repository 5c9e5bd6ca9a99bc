#include "checkpoint_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <stdexcept>

namespace fs = std::filesystem;

namespace fc::train {
namespace {

const std::regex kCheckpointName(R"(ckpt_(\d+)\.pt)");
const char* kTempSuffix = ".tmp";

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string name_for(long step) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "ckpt_%09ld.pt", step);
  return buf;
}

}  // namespace

CheckpointIO::CheckpointIO(std::string dir, int keep_last)
    : dir_(std::move(dir)), keep_last_(std::max(1, keep_last)) {
  fs::create_directories(dir_);
}

std::vector<std::string> CheckpointIO::list() const {
  std::vector<std::pair<long, std::string>> found;
  for (const auto& e : fs::directory_iterator(dir_)) {
    std::smatch m;
    std::string name = e.path().filename().string();
    if (e.is_regular_file() && std::regex_match(name, m, kCheckpointName))
      found.emplace_back(std::stol(m[1]), e.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(f.second);
  return out;
}

int CheckpointIO::remove_temp_files() const {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    std::string name = e.path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, kTempSuffix) == 0) {
      std::error_code ec;
      if (fs::remove(e.path(), ec)) ++n;
    }
  }
  return n;
}

std::string CheckpointIO::save(long step,
                               const std::function<void(torch::serialize::OutputArchive&)>& write) {
  const std::string path = (fs::path(dir_) / name_for(step)).string();
  // A name of this writer's own: in a jobs_dir that daemons share, a daemon whose lease lapsed
  // may still be saving the same step as the one that took its job over.
  char host[64] = "";
  ::gethostname(host, sizeof host - 1);
  const std::string tmp = path + "." + host + "-" + std::to_string(::getpid()) + kTempSuffix;
  torch::serialize::OutputArchive archive;
  write(archive);
  archive.save_to(tmp);
  fsync_path(tmp);
  fs::rename(tmp, path);
  fsync_path(dir_);
  auto all = list();
  for (size_t i = 0; i + keep_last_ < all.size(); ++i) fs::remove(all[i]);
  return path;
}

bool CheckpointIO::load_latest(torch::serialize::InputArchive* archive, std::string* path,
                               const torch::Device& device) const {
  auto all = list();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    try {
      torch::serialize::InputArchive a;
      a.load_from(*it, device);
      read_json(a, "state");  // proves the archive reads back
      *archive = std::move(a);
      if (path) *path = *it;
      return true;
    } catch (const std::exception&) {
      // damaged (e.g. a disk-full write that still got renamed): fall back to the previous one
    }
  }
  return false;
}

void write_json(torch::serialize::OutputArchive& a, const std::string& key,
                const nlohmann::json& j) {
  a.write(key, c10::IValue(j.dump()));
}

nlohmann::json read_json(torch::serialize::InputArchive& a, const std::string& key) {
  c10::IValue v;
  a.read(key, v);
  return nlohmann::json::parse(v.toStringRef());
}

}  // namespace fc::train
