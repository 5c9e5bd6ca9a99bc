// Generator and discriminator builders (LibTorch). Include only from the few translation units
// that need torch.
#pragma once

#include <torch/torch.h>

#include "facecycle/core/model_card.h"

namespace fc {

enum class Conditioning { kCondInstanceNorm, kChannel4 };
enum class Upsampling { kResizeConv, kTransposed };

struct GeneratorOptions {
  int width = 32;          // channels of the first c7s1 layer
  int blocks = 6;          // residual blocks
  int num_conditions = 4;  // K = number of (task, direction) pairs
  Conditioning conditioning = Conditioning::kCondInstanceNorm;
  Upsampling upsampling = Upsampling::kResizeConv;

  static GeneratorOptions from_card(const ModelCard& card);
  void to_card(ModelCard& card) const;
};

// CycleGAN ResNet generator: c7s1-k, d2k, d4k, N x R4k, u2k, uk, c7s1-3, tanh.
class ResnetGeneratorImpl : public torch::nn::Module {
 public:
  explicit ResnetGeneratorImpl(const GeneratorOptions& options);
  // x: [N,3,H,W] in [-1,1] with H, W divisible by 4; cond: [N] int64 condition ids.
  torch::Tensor forward(torch::Tensor x, torch::Tensor cond);
  const GeneratorOptions& options() const { return options_; }

 private:
  GeneratorOptions options_;
  struct Layers;
  std::shared_ptr<Layers> layers_;
};
TORCH_MODULE(ResnetGenerator);

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

}  // namespace fc
