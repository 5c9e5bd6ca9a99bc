// libFuzzer: the model file loader. The input's first 4 bytes give the length of a card (JSON),
// the rest is the weights file; load_model must load or throw, never crash.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "facecycle/core/model_file.h"

namespace {
void write_file(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  size_t card_len = (size_t(data[0]) | size_t(data[1]) << 8 | size_t(data[2]) << 16) % size;
  card_len = std::min(card_len, size - 4);
  static const std::string model = "/tmp/fc_fuzz_model_" + std::to_string(getpid()) + ".pt";
  write_file(fc::card_path_for(model), data + 4, card_len);
  write_file(model, data + 4 + card_len, size - 4 - card_len);
  try {
    fc::load_model(model, torch::kCPU);
  } catch (const std::exception&) {  // c10::Error, json and card errors all derive from it
  }
  return 0;
}
