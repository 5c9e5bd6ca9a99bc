// Training checkpoints in the job directory (after stargan-v2's CheckpointIO): one
// torch::serialize archive per checkpoint, ckpt_<step>.pt, written under a temporary name,
// fsynced and renamed, so a kill at any moment leaves either the old set or the new file.
#pragma once

#include <torch/serialize.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fc::train {

class CheckpointIO {
 public:
  CheckpointIO(std::string dir, int keep_last);

  const std::string& dir() const { return dir_; }
  // Writes ckpt_<step>.pt and prunes to the newest keep_last. Returns the path.
  std::string save(long step, const std::function<void(torch::serialize::OutputArchive&)>& write);
  // Complete checkpoints, oldest first. Temporary files never count.
  std::vector<std::string> list() const;
  // Deletes temporary files left by a crash during save; returns how many.
  int remove_temp_files() const;
  // Opens the newest checkpoint that reads back completely (it must hold the "state" entry);
  // a damaged newest one is skipped for the one before. False when there is none. Its tensors
  // are read onto `device` (the networks' device).
  bool load_latest(torch::serialize::InputArchive* archive, std::string* path,
                   const torch::Device& device = torch::kCPU) const;

 private:
  std::string dir_;
  int keep_last_;
};

// JSON and text entries inside archives.
void write_json(torch::serialize::OutputArchive& a, const std::string& key,
                const nlohmann::json& j);
nlohmann::json read_json(torch::serialize::InputArchive& a, const std::string& key);

}  // namespace fc::train
