// What a config or flag asks for the generator to run on and in, before this machine's hardware
// is known: "auto" is a request, not a device or a Precision. One name table each
// (enum_names.h), shared by the translator, the daemon's config and flags, and the trainer.
// No torch.
#pragma once

#include <utility>

#include "facecycle/core/enum_names.h"

namespace fc {

// kAuto: CUDA GPU 0 when this LibTorch sees one, else the CPU.
enum class DeviceChoice { kCpu, kCuda, kAuto };

// kAuto: bf16 on a CUDA GPU and on CPUs with native bf16 (AVX512-BF16), else fp32
// (torch_translator.cpp).
enum class PrecisionChoice { kFp32, kBf16, kAuto };

template <>
struct EnumNames<DeviceChoice> {
  static constexpr std::pair<DeviceChoice, const char*> table[] = {
      {DeviceChoice::kCpu, "cpu"}, {DeviceChoice::kCuda, "cuda"}, {DeviceChoice::kAuto, "auto"}};
};
template <>
struct EnumNames<PrecisionChoice> {
  static constexpr std::pair<PrecisionChoice, const char*> table[] = {
      {PrecisionChoice::kFp32, "fp32"},
      {PrecisionChoice::kBf16, "bf16"},
      {PrecisionChoice::kAuto, "auto"}};
};

}  // namespace fc
