// The safetensors layout, written and read with plain file I/O and nlohmann::json: the format
// spec is the whole contract, so any LibTorch (or Python's safetensors package) reads the file.
#include "facecycle/core/safetensors.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian");

namespace fc {
namespace {

struct DtypeName {
  torch::ScalarType type;
  const char* name;
};
constexpr DtypeName kDtypes[] = {
    {torch::kFloat32, "F32"},   {torch::kFloat64, "F64"}, {torch::kFloat16, "F16"},
    {torch::kBFloat16, "BF16"}, {torch::kInt64, "I64"},   {torch::kInt32, "I32"},
    {torch::kUInt8, "U8"},
};

const char* dtype_name(torch::ScalarType t) {
  for (const auto& d : kDtypes)
    if (d.type == t) return d.name;
  throw std::invalid_argument(std::string("safetensors: unsupported dtype ") + c10::toString(t));
}

torch::ScalarType dtype_of(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return d.type;
  throw std::runtime_error("unsupported dtype '" + name + "'");
}

// Bytes of a tensor of this shape, or a runtime_error when a dimension is negative or the size
// exceeds `limit` (the data section), overflow included.
uint64_t byte_size(const std::vector<int64_t>& shape, size_t element, uint64_t limit) {
  for (int64_t d : shape)
    if (d < 0) throw std::runtime_error("negative dimension in shape");
  if (std::count(shape.begin(), shape.end(), 0)) return 0;
  uint64_t n = element;
  for (int64_t d : shape) {
    if (n > limit / static_cast<uint64_t>(d))
      throw std::runtime_error("shape is larger than the file's data");
    n *= static_cast<uint64_t>(d);
  }
  if (n > limit) throw std::runtime_error("shape is larger than the file's data");
  return n;
}

}  // namespace

void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> data;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(c.numel()) * c.element_size();
    header[name] = {{"dtype", dtype_name(c.scalar_type())},
                    {"shape", c.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(c);
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // the spec allows space padding; keeps data aligned
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((uint64_t(h.size()) >> (8 * i)));
  out.write(reinterpret_cast<const char*>(len), 8);
  out.write(h.data(), static_cast<std::streamsize>(h.size()));
  for (const auto& c : data)
    out.write(static_cast<const char*>(c.data_ptr()),
              static_cast<std::streamsize>(c.numel() * c.element_size()));
  out.flush();
  if (!out) throw std::runtime_error("could not write " + path);
}

NamedTensors read_safetensors(const std::string& path,
                              std::map<std::string, std::string>* metadata) {
  std::ifstream in(path, std::ios::binary);
  const SafetensorsHeader head = read_safetensors_header(in, path);
  if (metadata) *metadata = safetensors_metadata(head, path);
  const nlohmann::json& header = head.json;
  const uint64_t hlen = head.length;
  const uint64_t data_size = head.file_size - 8 - hlen;
  std::vector<std::pair<std::pair<uint64_t, uint64_t>, std::pair<std::string, torch::Tensor>>>
      found;
  for (const auto& [name, e] : header.items()) {
    if (name == "__metadata__") continue;
    try {
      const auto type = dtype_of(e.at("dtype").get<std::string>());
      const auto shape = e.at("shape").get<std::vector<int64_t>>();
      const auto off = e.at("data_offsets").get<std::vector<uint64_t>>();
      // Checked before allocating, so a corrupt shape cannot ask for terabytes.
      const uint64_t bytes = byte_size(shape, c10::elementSize(type), data_size);
      if (off.size() != 2 || off[0] > off[1] || off[1] > data_size || off[1] - off[0] != bytes)
        throw std::runtime_error("data_offsets do not fit the shape or the file");
      torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(type));
      in.seekg(static_cast<std::streamoff>(8 + hlen + off[0]));
      if (!in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(bytes)))
        throw std::runtime_error("truncated data");
      found.push_back({{off[0], off[1]}, {name, t}});
    } catch (const nlohmann::json::exception& ex) {
      throw std::runtime_error(path + ": tensor '" + name + "': " + ex.what());
    } catch (const std::runtime_error& ex) {
      throw std::runtime_error(path + ": tensor '" + name + "': " + ex.what());
    }
  }
  // The JSON object is read back sorted by name; file order is what the writer chose. By
  // (start, end), an empty tensor sorts before one that starts where it does.
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  NamedTensors out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

}  // namespace fc
