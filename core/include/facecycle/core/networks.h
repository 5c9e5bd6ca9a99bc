// Generator and discriminator builders (LibTorch). Include only from the few translation units
// that need torch.
#pragma once

#include <torch/torch.h>

#include "facecycle/core/generator_options.h"
#include "facecycle/core/model_card.h"

namespace fc {

// Conditioning, Upsampling, Output and GeneratorOptions: generator_options.h.

// CycleGAN ResNet generator: c7s1-k, d2k, d4k, N x R4k, u2k, uk, c7s1-3, tanh.
class ResnetGeneratorImpl : public torch::nn::Module {
 public:
  explicit ResnetGeneratorImpl(const GeneratorOptions& options);
  // x: [N,3,H,W] in [-1,1] with H, W divisible by 4; cond: [N] int64 condition ids.
  torch::Tensor forward(torch::Tensor x, torch::Tensor cond);
  const GeneratorOptions& options() const { return options_; }
  // Switches to residual output with the tail conv zeroed, so the output starts as the input:
  // a warm start into residual mode from an image-output model keeps its trunk.
  void start_residual();
  // Nearest and bilinear resize-conv share their weights, so a warm start may switch between
  // them; switching to or from transposed throws std::invalid_argument.
  void set_upsampling(Upsampling upsampling);
  // Adds or changes the chroma grid of a residual model (no weights depend on it).
  void set_chroma_grid(int grid);
  // Adds the zero-initialised desaturation head to a residual model (a warm start); a model
  // that has it keeps it.
  void add_desaturation_map();

 private:
  // Residual output: the tail's change, filtered as the options say, added to the image.
  torch::Tensor add_change(torch::Tensor change, const torch::Tensor& image,
                           const torch::Tensor& features_padded);

  GeneratorOptions options_;
  struct Layers;
  std::shared_ptr<Layers> layers_;
};
TORCH_MODULE(ResnetGenerator);

// The change of a residual generator with its chroma reduced to a grid x grid field
// (GeneratorOptions::chroma_grid); luminance passes through untouched. change: [N,3,H,W].
torch::Tensor low_pass_chroma(const torch::Tensor& change, int grid);

// The change that takes each pixel's chroma towards grey by min(0, tanh(logit)) of it
// (GeneratorOptions::desaturation_map). image: [N,3,H,W] in [-1,1]; logits: [N,1,H,W].
torch::Tensor desaturation_change(const torch::Tensor& image, const torch::Tensor& logits);

// A deterministically initialised generator (independent of the global torch seed): conv
// weights N(0, 0.02), and for CIN each condition's gamma ~ N(1, condition_std), beta ~
// N(0, condition_std), so different conditions give visibly different outputs untrained.
ResnetGenerator make_seeded_generator(const GeneratorOptions& options, uint64_t seed,
                                      double condition_std = 0.2);

// Stores the 4-D conv weights as channels_last; feed channels_last inputs to match.
void use_channels_last(ResnetGenerator& generator);

struct DiscriminatorOptions {
  int width = 64;
  int layers = 3;  // stride-2 layers; 3 gives the 70x70 receptive field
};

// Fewer layers at small sizes so the patch grid stays at least a few patches wide.
int patchgan_layers_for_size(int image_size);

// PatchGAN: one real/fake score per overlapping patch, [N,1,h,w]. No sigmoid (LSGAN).
class PatchDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit PatchDiscriminatorImpl(const DiscriminatorOptions& options);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Sequential model_{nullptr};
};
TORCH_MODULE(PatchDiscriminator);

// The small classifiers' trunk (the trainer's attribute judge, a model's domain gate): `layers`
// stride-2 4x4 convolutions from `width` channels, doubling, each with batch norm and leaky
// ReLU, then a global average pool: [N,3,H,W] -> [N, width << (layers - 1)].
torch::nn::Sequential strided_classifier_trunk(int width, int layers = 4);

// x [N,C,H,W] at size x size: area-averaged when it shrinks, bilinear when it grows, x itself
// when it is that size already (the classifiers' inputs, whatever the caller's resolution).
torch::Tensor resize_square(const torch::Tensor& x, int size);

}  // namespace fc
