// The header of a safetensors file (an 8-byte little-endian length, then JSON), read without
// LibTorch: the daemon lists what a model folder holds (a gate's tasks) from it, and
// safetensors.h reads the tensors after it.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace fc {

struct SafetensorsHeader {
  nlohmann::json json;     // {"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {..}}
  uint64_t length = 0;     // of the JSON text
  uint64_t file_size = 0;  // the data starts at 8 + length
};

// Throws std::runtime_error naming the file: cannot open, not a safetensors file (a header
// length past the file or 64 MiB), bad JSON.
SafetensorsHeader read_safetensors_header(std::ifstream& in, const std::string& path);

// The header's "__metadata__" ({} when it has none); throws std::runtime_error naming the
// file when a value is not a string.
std::map<std::string, std::string> safetensors_metadata(const SafetensorsHeader& h,
                                                        const std::string& path);
// Only the header's "__metadata__"; throws as read_safetensors_header and safetensors_metadata do.
std::map<std::string, std::string> read_safetensors_metadata(const std::string& path);

// True when the file starts like a safetensors file (a plausible header length and '{');
// a torch::save archive starts with the zip magic "PK" and is never mistaken for one.
bool looks_like_safetensors(const std::string& path);

}  // namespace fc
