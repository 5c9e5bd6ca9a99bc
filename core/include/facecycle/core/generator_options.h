// The generator's architecture choices and their spellings in configs and model cards. No torch,
// so configs and cards use the same enums as the network (networks.h).
#pragma once

#include <utility>

#include "facecycle/core/enum_names.h"

namespace fc {

// kCondInstanceNorm (default): every InstanceNorm (affine=False) in the network, residual blocks
// included, is followed by a per-condition gamma/beta looked up in an Embedding(K, 2C)
// (initialised to gamma=1, beta=0, so a fresh network ignores the condition until trained or
// seeded with make_seeded_generator).
//
// kChannel4 (the original design, kept to document why it fails): the input gets a constant 4th
// channel cond/(K-1) and every norm is a plain affine InstanceNorm. With reflect padding that
// channel stays constant over the whole padded image, so the first 7x7 conv turns it into a
// per-output-channel constant added to every pixel; the following instance norm subtracts each
// channel's spatial mean, which removes that constant exactly. The condition is erased at the
// first layer and the output cannot depend on it (tests/model verifies this).
enum class Conditioning { kCondInstanceNorm, kChannel4 };
// kResizeConv (default): nearest x2 then reflect-pad 3x3 conv; kResizeConvBilinear: bilinear x2
// then 3x3 conv; kTransposed: stride-2 transposed conv (gave checkerboard texture here).
enum class Upsampling { kResizeConv, kTransposed, kResizeConvBilinear };

// kImage (CycleGAN): the tail conv's tanh is the image. kResidual: the tail conv is a change
// added to the input, clamped to [-1,1] (residual images, Shen & Liu 2017): detail the edit does
// not touch passes through unchanged instead of being re-synthesised, which a slim 64 px
// generator does blurrily.
enum class Output { kImage, kResidual };

// The arithmetic of the forward passes. kBf16 runs them in bfloat16 (CPU autocast when training,
// the weights themselves when serving); about 1.7-1.9x faster on AVX512-BF16 CPUs.
enum class Precision { kFp32, kBf16 };

template <>
struct EnumNames<Conditioning> {
  static constexpr std::pair<Conditioning, const char*> table[] = {
      {Conditioning::kCondInstanceNorm, "cin"}, {Conditioning::kChannel4, "channel4"}};
};
template <>
struct EnumNames<Upsampling> {
  static constexpr std::pair<Upsampling, const char*> table[] = {
      {Upsampling::kResizeConv, "resize_conv"},
      {Upsampling::kResizeConvBilinear, "resize_conv_bilinear"},
      {Upsampling::kTransposed, "transposed"}};
};
template <>
struct EnumNames<Output> {
  static constexpr std::pair<Output, const char*> table[] = {{Output::kImage, "image"},
                                                             {Output::kResidual, "residual"}};
};
template <>
struct EnumNames<Precision> {
  static constexpr std::pair<Precision, const char*> table[] = {{Precision::kFp32, "fp32"},
                                                                {Precision::kBf16, "bf16"}};
};

struct GeneratorOptions {
  int width = 32;          // channels of the first c7s1 layer
  int blocks = 6;          // residual blocks
  int num_conditions = 4;  // K = number of (task, direction) pairs
  Conditioning conditioning = Conditioning::kCondInstanceNorm;
  Upsampling upsampling = Upsampling::kResizeConv;
  Output output = Output::kImage;
  // Residual output only; 0 = off. The change's chroma (BT.601 Cb/Cr) is averaged over a
  // chroma_grid x chroma_grid grid and bilinearly resized back, while its luminance keeps every
  // pixel: tints can follow regions (greying hair, darker skin) but not draw small colour
  // patches. v24-v27 drew magenta cheek blotches that penalties added later did not remove.
  int chroma_grid = 0;
  // Residual output only. A one-channel head scales the input's own chroma per pixel, from
  // 1 (kept) down to 0 (grey): hair and beards can turn grey strand by strand while the
  // chroma grid still keeps new hues out. It only removes colour, so it cannot paint the pink
  // or blue patches the grid was built against. Zero-initialised: added to a trained model,
  // it starts as the identity.
  bool desaturation_map = false;
};

}  // namespace fc
