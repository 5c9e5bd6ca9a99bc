// Face packs: one safetensors file per data set, read whole into memory (23,708 faces at 128 px
// are 1.2 GB, nothing for the GPU host it is meant for), shared by every loader in the process.
#include "data/packed_faces.h"

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "facecycle/core/safetensors.h"

namespace fc::train {
namespace fs = std::filesystem;
namespace {

std::mutex g_mu;
std::map<std::string, std::shared_ptr<const FacePack>> g_packs;  // by absolute path

std::string key_of(const std::string& path) { return fs::absolute(path).lexically_normal(); }

std::vector<std::string> names_of(const std::map<std::string, std::string>& meta,
                                  const std::string& path) {
  auto it = meta.find("format");
  if (it == meta.end() || it->second != kFacePackFormat)
    throw std::runtime_error(path + ": not a face pack (metadata format is not " +
                             std::string(kFacePackFormat) + ")");
  try {
    return nlohmann::json::parse(meta.at("names")).get<std::vector<std::string>>();
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": face pack without a valid names list: " + e.what());
  }
}

std::shared_ptr<FacePack> read_pack(const std::string& path) {
  std::map<std::string, std::string> meta;
  auto pack = std::make_shared<FacePack>();
  pack->path = path;
  for (auto& [name, t] : read_safetensors(path, &meta)) {
    if (name == "images") pack->images = t;
    if (name == "labels") pack->labels = t;
  }
  pack->names = names_of(meta, path);
  const auto n = static_cast<int64_t>(pack->names.size());
  const auto& im = pack->images;
  if (!im.defined() || im.dim() != 4 || im.size(0) != n || im.size(3) != 3 ||
      im.size(1) != im.size(2) || im.scalar_type() != torch::kUInt8)
    throw std::runtime_error(path + ": face pack images must be uint8 [" + std::to_string(n) +
                             ", S, S, 3]");
  const auto& lb = pack->labels;
  if (!lb.defined() || lb.dim() != 2 || lb.size(0) != n || lb.size(1) != 3)
    throw std::runtime_error(path + ": face pack labels must be [" + std::to_string(n) + ", 3]");
  const torch::Tensor labels = lb.to(torch::kInt64);
  for (int64_t i = 0; i < n; ++i) {
    FaceRecord r;
    if (!parse_utkface_name(pack->names[i], &r) || r.age != labels[i][0].item<int64_t>() ||
        r.gender != labels[i][1].item<int64_t>() || r.race != labels[i][2].item<int64_t>())
      throw std::runtime_error(path + ": face " + pack->names[i] +
                               " has labels that its name does not carry");
    if (!pack->index.emplace(pack->names[i], i).second)
      throw std::runtime_error(path + ": face " + pack->names[i] + " appears twice");
  }
  return pack;
}

}  // namespace

bool is_face_pack(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec) || !looks_like_safetensors(path)) return false;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_packs.count(key_of(path))) return true;
  }
  try {
    const auto meta = read_safetensors_metadata(path);
    auto it = meta.find("format");
    return it != meta.end() && it->second == kFacePackFormat;
  } catch (const std::runtime_error&) {
    return false;
  }
}

std::shared_ptr<const FacePack> open_face_pack(const std::string& path) {
  const std::string key = key_of(path);
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_packs.find(key);
    if (it != g_packs.end()) return it->second;
  }
  std::shared_ptr<const FacePack> pack = read_pack(path);  // outside the lock: it takes seconds
  std::lock_guard<std::mutex> lock(g_mu);
  return g_packs.emplace(key, pack).first->second;
}

ScanResult scan_face_pack(const std::string& path) {
  auto pack = open_face_pack(path);
  ScanResult result;
  for (const auto& [name, i] : pack->index) {  // std::map: sorted by name, as a folder scan
    FaceRecord r;
    parse_utkface_name(name, &r);
    r.path = (fs::path(path) / name).string();
    result.records.push_back(std::move(r));
  }
  return result;
}

ScanResult scan_faces(const std::string& dir_or_pack) {
  return is_face_pack(dir_or_pack) ? scan_face_pack(dir_or_pack) : scan_utkface(dir_or_pack);
}

torch::Tensor packed_face_rgb(const std::string& path) {
  const fs::path p(path);
  const std::string parent = p.parent_path().string();
  if (parent.empty()) return {};
  if (!is_face_pack(parent)) return {};  // one stat for a folder's images
  auto pack = open_face_pack(parent);
  auto it = pack->index.find(p.filename().string());
  if (it == pack->index.end())
    throw std::runtime_error(parent + ": face pack has no face " + p.filename().string());
  return pack->images[it->second];
}

}  // namespace fc::train
