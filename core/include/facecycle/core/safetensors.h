// Named tensors in the safetensors layout: an 8-byte little-endian header length, a JSON header
// ({"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}) and the raw
// little-endian bytes. Unlike a torch::save archive, nothing in it depends on the LibTorch
// version that wrote it, so a model trained with LibTorch 2.x loads in Debian's 1.13 and back.
#pragma once

#include <torch/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "facecycle/core/safetensors_header.h"

namespace fc {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Writes the tensors (moved to CPU, contiguous) in the given order. float32, float64, float16,
// bfloat16, int64, int32 and uint8 are supported; anything else throws std::invalid_argument.
// Throws std::runtime_error when the file cannot be written.
void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Reads every tensor, in file order. Throws std::runtime_error naming the file and the problem
// (truncated, bad header, unknown dtype, offsets outside the data, size not matching the shape).
// `metadata`, when given, receives the header's "__metadata__" (string values only).
NamedTensors read_safetensors(const std::string& path,
                              std::map<std::string, std::string>* metadata = nullptr);

}  // namespace fc
