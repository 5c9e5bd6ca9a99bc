#include "facecycle/core/safetensors_header.h"

#include <stdexcept>

namespace fc {
namespace {

// The header limit keeps a corrupt length from asking for gigabytes.
constexpr uint64_t kMaxHeader = 64ull << 20;

uint64_t read_header_length(std::ifstream& in) {
  unsigned char b[8];
  if (!in.read(reinterpret_cast<char*>(b), 8)) return 0;
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | b[i];
  return n;
}

}  // namespace

SafetensorsHeader read_safetensors_header(std::ifstream& in, const std::string& path) {
  if (!in) throw std::runtime_error(path + ": cannot open");
  SafetensorsHeader h;
  in.seekg(0, std::ios::end);
  h.file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  h.length = read_header_length(in);
  if (h.length == 0 || h.length > kMaxHeader || 8 + h.length > h.file_size)
    throw std::runtime_error(path + ": not a safetensors file (header length " +
                             std::to_string(h.length) + ", file " + std::to_string(h.file_size) +
                             ")");
  std::string text(h.length, '\0');
  in.read(text.data(), static_cast<std::streamsize>(h.length));
  try {
    h.json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": bad safetensors header: " + e.what());
  }
  if (!h.json.is_object()) throw std::runtime_error(path + ": safetensors header is no object");
  return h;
}

std::map<std::string, std::string> safetensors_metadata(const SafetensorsHeader& h,
                                                        const std::string& path) {
  if (!h.json.contains("__metadata__")) return {};
  try {
    return h.json["__metadata__"].get<std::map<std::string, std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": bad __metadata__ (string values only): " + e.what());
  }
}

std::map<std::string, std::string> read_safetensors_metadata(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return safetensors_metadata(read_safetensors_header(in, path), path);
}

bool looks_like_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const uint64_t hlen = read_header_length(in);
  char first = 0;
  return hlen > 1 && hlen <= kMaxHeader && in.get(first) && first == '{';
}

}  // namespace fc
