// CycleGAN ResNet generator with per-condition normalisation, and the PatchGAN discriminator.
#include "facecycle/core/networks.h"

#include <ATen/CPUGeneratorImpl.h>

#include <stdexcept>
#include <string>

#include "facecycle/core/colour_space.h"

namespace fc {
namespace nn = torch::nn;

namespace {

// LibTorch 1.13 lacks some CPU bf16 kernels (reflection/replication padding) and mis-dispatches
// others (transposed conv); layers take a generic path unless x is float or not on the CPU.
bool has_full_kernels(const torch::Tensor& x) {
  return x.scalar_type() == torch::kFloat || !x.device().is_cpu();
}
torch::Tensor reflect_pad(const torch::Tensor& x, int64_t p) {
  if (has_full_kernels(x)) return torch::reflection_pad2d(x, {p, p, p, p});
  auto along = [p](const torch::Tensor& t, int64_t d) {
    const auto n = t.size(d);
    return torch::cat({t.narrow(d, 1, p).flip({d}), t, t.narrow(d, n - 1 - p, p).flip({d})}, d);
  };
  return along(along(x, 3), 2);
}
torch::Tensor replicate_pad(const torch::Tensor& x, int64_t p) {
  if (has_full_kernels(x)) return torch::replication_pad2d(x, {p, p, p, p});
  auto along = [p](const torch::Tensor& t, int64_t d) {
    auto first = t.narrow(d, 0, 1), last = t.narrow(d, t.size(d) - 1, 1);
    std::vector<int64_t> reps(t.dim(), 1);
    reps[d] = p;
    return torch::cat({first.repeat(reps), t, last.repeat(reps)}, d);
  };
  return along(along(x, 3), 2);
}

constexpr double kNormEps = 1e-5;

// Instance norm followed by an affine transform chosen per sample. CIN: gamma/beta come from an
// Embedding(K, 2C) indexed by the condition id. Channel4: one learned gamma/beta shared by all
// conditions (plain affine InstanceNorm).
class CondNormImpl : public nn::Module {
 public:
  CondNormImpl(int channels, int num_conditions, bool conditional)
      : channels_(channels), conditional_(conditional) {
    if (conditional_) {
      embed_ = register_module("embed", nn::Embedding(num_conditions, 2 * channels));
      torch::NoGradGuard no_grad;
      embed_->weight.narrow(1, 0, channels).fill_(1.0);
      embed_->weight.narrow(1, channels, channels).zero_();
    } else {
      weight_ = register_parameter("weight", torch::ones({channels}));
      bias_ = register_parameter("bias", torch::zeros({channels}));
    }
  }

  // Normalises x: [N,C,H,W] and applies the per-sample affine; relu fused when asked.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond, bool relu) {
    const auto n = x.size(0);
    torch::Tensor gamma, beta;  // [N*C] each
    if (conditional_) {
      auto gb = embed_->forward(cond);  // [N, 2C]
      gamma = gb.narrow(1, 0, channels_).reshape({-1});
      beta = gb.narrow(1, channels_, channels_).reshape({-1});
    } else {
      gamma = weight_.repeat({n});
      beta = bias_.repeat({n});
    }
    torch::Tensor y;
    if (x.is_contiguous()) {
      // Instance norm is batch norm over a [1, N*C, H, W] view; the batch-norm kernel applies
      // the per-sample gamma/beta in the same pass.
      y = torch::batch_norm(x.view({1, n * channels_, x.size(2), x.size(3)}), gamma, beta, {}, {},
                            /*training=*/true, 0.0, kNormEps, /*cudnn_enabled=*/true)
              .view_as(x);
    } else {
      // channels_last (or any other layout): per-sample statistics, one fused affine.
      auto [var, mean] = torch::var_mean(x, {2, 3}, /*unbiased=*/false, /*keepdim=*/true);
      auto scale = gamma.view({n, channels_, 1, 1}) * (var + kNormEps).rsqrt();
      auto shift = beta.view({n, channels_, 1, 1}) - mean * scale;
      y = torch::addcmul(shift, x, scale);
    }
    return relu ? y.relu_() : y;
  }

 private:
  int channels_;
  bool conditional_;
  nn::Embedding embed_{nullptr};
  torch::Tensor weight_, bias_;
};
TORCH_MODULE(CondNorm);

// Convolutions followed by instance norm carry no bias: the norm subtracts it again.
nn::Conv2d conv(int in, int out, int k, int stride, int pad, bool bias) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(bias));
}

class ResBlockImpl : public nn::Module {
 public:
  ResBlockImpl(int channels, int num_conditions, bool conditional) {
    conv1 = register_module("conv1", conv(channels, channels, 3, 1, 0, false));
    norm1 = register_module("norm1", CondNorm(channels, num_conditions, conditional));
    conv2 = register_module("conv2", conv(channels, channels, 3, 1, 0, false));
    norm2 = register_module("norm2", CondNorm(channels, num_conditions, conditional));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond) {
    auto h = norm1->forward(conv1->forward(reflect_pad(x, 1)), cond, true);
    h = norm2->forward(conv2->forward(reflect_pad(h, 1)), cond, false);
    return h.add_(x);
  }
  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  CondNorm norm1{nullptr}, norm2{nullptr};
};
TORCH_MODULE(ResBlock);

// Nearest x2 upsample + reflect pad 1 + 3x3 conv, computed on the low-res input: reflect-padding
// the upsampled image equals upsampling the replicate-padded input, and each of the four output
// phases (row parity a, column parity b) sees a 2x2 window of it with summed taps. One 2x2 conv
// with 4*Cout outputs replaces the 3x3 conv at 4x the pixels: 16 instead of 36 MACs per input
// pixel and channel pair, and no upsampled intermediate.
torch::Tensor fused_nearest_upconv(const torch::Tensor& x, const torch::Tensor& w) {
  // Along one kernel axis: phase 0 reads offsets (-1, 0) with taps (w0, w1+w2); phase 1 reads
  // (0, +1) with taps (w0+w1, w2).
  auto fold = [](const torch::Tensor& t, int64_t dim) {
    auto t0 = t.select(dim, 0), t1 = t.select(dim, 1), t2 = t.select(dim, 2);
    return std::make_pair(torch::stack({t0, t1 + t2}, dim), torch::stack({t0 + t1, t2}, dim));
  };
  auto rows = fold(w, 2);
  auto r0 = fold(rows.first, 3), r1 = fold(rows.second, 3);
  auto k = torch::cat({r0.first, r0.second, r1.first, r1.second}, 0);  // phases (a,b) row-major
  const auto n = x.size(0), co = w.size(0), h = x.size(2), wd = x.size(3);
  auto o = torch::conv2d(replicate_pad(x, 1), k)  // [N,4Co,h+1,w+1]
               .view({n, 2, 2, co, h + 1, wd + 1});
  auto out = torch::empty({n, co, h, 2, wd, 2}, x.options());
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b)
      out.select(5, b).select(3, a).copy_(
          o.select(1, a).select(1, b).narrow(2, a, h).narrow(3, b, wd));
  return out.view({n, co, 2 * h, 2 * wd});
}

// A k x k conv with few outputs (the c7s1-3 tail) runs badly as a direct conv: the kernels pad 3
// output channels to a 16-wide vector. Instead a 1x1 conv (a GEMM) produces every
// (output channel, tap) product plane and the k*k shifted planes are summed. The planes are
// made per sample in bands of rows that keep them within a few MB (cache-sized; whole images
// at 256 px made it slower than the direct conv).
torch::Tensor few_output_conv(const torch::Tensor& x_padded, const torch::Tensor& w,
                              const torch::Tensor& bias) {
  constexpr int64_t kBandBytes = 4 << 20;
  const auto n = x_padded.size(0), co = w.size(0), ci = w.size(1), k = w.size(2);
  const auto h = x_padded.size(2) - k + 1, wd = x_padded.size(3) - k + 1, wp = x_padded.size(3);
  const auto w1 = w.permute({0, 2, 3, 1}).reshape({co * k * k, ci, 1, 1});
  const auto rows = std::max<int64_t>(8, kBandBytes / (co * k * k * wp * 4));
  auto out = bias.defined() ? bias.view({1, co, 1, 1}).expand({n, co, h, wd}).clone()
                            : torch::zeros({n, co, h, wd}, x_padded.options());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t r0 = 0; r0 < h; r0 += rows) {
      const auto r = std::min(rows, h - r0);
      auto taps = torch::conv2d(x_padded.narrow(0, i, 1).narrow(2, r0, r + k - 1), w1)
                      .view({co, k * k, r + k - 1, wp});
      auto o = out[i].narrow(1, r0, r);
      for (int64_t dy = 0; dy < k; ++dy)
        for (int64_t dx = 0; dx < k; ++dx)
          o.add_(taps.select(1, dy * k + dx).narrow(1, dy, r).narrow(2, dx, wd));
    }
  return out;
}

}  // namespace

struct ResnetGeneratorImpl::Layers {
  nn::Conv2d head{nullptr}, down1{nullptr}, down2{nullptr}, tail{nullptr};
  nn::Conv2d desaturation{nullptr};  // GeneratorOptions::desaturation_map
  CondNorm head_norm{nullptr}, down1_norm{nullptr}, down2_norm{nullptr};
  std::vector<ResBlock> blocks;
  nn::Conv2d up1{nullptr}, up2{nullptr};             // resize-conv
  nn::ConvTranspose2d up1t{nullptr}, up2t{nullptr};  // transposed
  CondNorm up1_norm{nullptr}, up2_norm{nullptr};
};

ResnetGeneratorImpl::ResnetGeneratorImpl(const GeneratorOptions& options)
    : options_(options), layers_(std::make_shared<Layers>()) {
  if (options.width < 1 || options.blocks < 0 || options.num_conditions < 1)
    throw std::invalid_argument(
        "generator: width and condition count must be positive, blocks >= 0");
  set_chroma_grid(options.chroma_grid);
  const int k = options.width, K = options.num_conditions;
  const bool cin = options.conditioning == Conditioning::kCondInstanceNorm;
  const int in_ch = cin ? 3 : 4;
  auto& L = *layers_;
  L.head = register_module("head", conv(in_ch, k, 7, 1, 0, false));
  L.head_norm = register_module("head_norm", CondNorm(k, K, cin));
  L.down1 = register_module("down1", conv(k, 2 * k, 3, 2, 1, false));
  L.down1_norm = register_module("down1_norm", CondNorm(2 * k, K, cin));
  L.down2 = register_module("down2", conv(2 * k, 4 * k, 3, 2, 1, false));
  L.down2_norm = register_module("down2_norm", CondNorm(4 * k, K, cin));
  for (int i = 0; i < options.blocks; ++i)
    L.blocks.push_back(register_module("res" + std::to_string(i), ResBlock(4 * k, K, cin)));
  if (options.upsampling == Upsampling::kTransposed) {
    auto up = [](int in, int out) {
      return nn::ConvTranspose2d(nn::ConvTranspose2dOptions(in, out, 3)
                                     .stride(2)
                                     .padding(1)
                                     .output_padding(1)
                                     .bias(false));
    };
    L.up1t = register_module("up1", up(4 * k, 2 * k));
    L.up2t = register_module("up2", up(2 * k, k));
  } else {
    L.up1 = register_module("up1", conv(4 * k, 2 * k, 3, 1, 0, false));
    L.up2 = register_module("up2", conv(2 * k, k, 3, 1, 0, false));
  }
  L.up1_norm = register_module("up1_norm", CondNorm(2 * k, K, cin));
  L.up2_norm = register_module("up2_norm", CondNorm(k, K, cin));
  L.tail = register_module("tail", conv(k, 3, 7, 1, 0, true));

  // CycleGAN init: conv weights N(0, 0.02), biases 0 (follows the global torch seed).
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    const auto& name = p.key();
    if (name.find("norm") != std::string::npos) continue;
    if (name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0)
      p.value().normal_(0.0, 0.02);
    else
      p.value().zero_();
  }
  if (options.desaturation_map) add_desaturation_map();
}

torch::Tensor ResnetGeneratorImpl::forward(torch::Tensor x, torch::Tensor cond) {
  if (x.dim() != 4 || x.size(1) != 3)
    throw std::invalid_argument("generator: expected input [N,3,H,W], got " +
                                std::string(c10::str(x.sizes())));
  const auto h = x.size(2), w = x.size(3);
  if (h % 4 != 0 || w % 4 != 0 || h < 8 || w < 8)
    throw std::invalid_argument("generator: input size " + std::to_string(h) + "x" +
                                std::to_string(w) +
                                " is not a multiple of 4 (at least 8); resize the face crop to "
                                "e.g. " +
                                std::to_string(std::max<int64_t>(8, h / 4 * 4)) + " px");
  if (cond.dim() != 1 || cond.size(0) != x.size(0))
    throw std::invalid_argument("generator: cond must be [N] condition ids, one per image");
  cond = cond.to(x.device(), torch::kLong);
  const torch::Tensor image = x;
  const int K = options_.num_conditions;
  if (cond.numel() > 0 && (cond.min().item<int64_t>() < 0 || cond.max().item<int64_t>() >= K))
    throw std::invalid_argument("generator: condition id out of range [0, " +
                                std::to_string(K - 1) + "]");
  // Inference on a large batch runs in cache-sized chunks (samples are independent: instance
  // norm is per sample). Measured: batch 16 at 128 px was about 10 % slower per face than
  // batch 1, while batch 16 at 64 px was the fastest per face.
  constexpr int64_t kChunkPixels = 16 * 64 * 64;
  const int64_t n = x.size(0);
  if (!torch::GradMode::is_enabled() && x.device().is_cpu() && n > 1 && n * h * w > kChunkPixels) {
    const int64_t per = std::max<int64_t>(1, kChunkPixels / (h * w));
    if (per < n) {
      std::vector<torch::Tensor> parts;
      for (int64_t i = 0; i < n; i += per) {
        const int64_t m = std::min(per, n - i);
        parts.push_back(forward(x.narrow(0, i, m), cond.narrow(0, i, m)));
      }
      return torch::cat(parts);
    }
  }
  auto& L = *layers_;

  if (options_.conditioning == Conditioning::kChannel4) {
    // The original design: a constant 4th channel cond/(K-1). See networks.h: the following
    // instance norm erases it.
    auto level = cond.to(x.dtype()) / static_cast<double>(std::max(1, K - 1));
    auto plane = level.view({-1, 1, 1, 1}).expand({x.size(0), 1, h, w});
    x = torch::cat({x, plane}, 1);
    if (x.suggest_memory_format() == at::MemoryFormat::ChannelsLast)
      x = x.contiguous(at::MemoryFormat::ChannelsLast);
  }
  auto y = L.head_norm->forward(L.head->forward(reflect_pad(x, 3)), cond, true);
  y = L.down1_norm->forward(L.down1->forward(y), cond, true);
  y = L.down2_norm->forward(L.down2->forward(y), cond, true);
  for (auto& b : L.blocks) y = b->forward(y, cond);
  auto up = [&](const torch::Tensor& t, nn::Conv2d& c, nn::ConvTranspose2d& ct) {
    if (options_.upsampling == Upsampling::kTransposed) {
      if (has_full_kernels(t)) return ct->forward(t);
      // LibTorch 1.13 sends CPU bf16 transposed convs to the plain conv kernel (shape error):
      // this layer runs in float.
      return torch::conv_transpose2d(t.to(torch::kFloat), ct->weight.to(torch::kFloat), {}, 2, 1, 1)
          .to(t.scalar_type());
    }
    // Without autograd (inference) the exact low-res formulation is used; training keeps the
    // literal one (tests/model checks they agree).
    if (options_.upsampling == Upsampling::kResizeConv && !torch::GradMode::is_enabled())
      return fused_nearest_upconv(t, c->weight);
    auto r = options_.upsampling == Upsampling::kResizeConvBilinear
                 ? torch::upsample_bilinear2d(t, {t.size(2) * 2, t.size(3) * 2}, false)
                 : torch::upsample_nearest2d(t, {t.size(2) * 2, t.size(3) * 2});
    return c->forward(reflect_pad(r, 1));
  };
  y = L.up1_norm->forward(up(y, L.up1, L.up1t), cond, true);
  y = L.up2_norm->forward(up(y, L.up2, L.up2t), cond, true);
  auto padded = reflect_pad(y, 3);
  auto out = torch::GradMode::is_enabled() ? L.tail->forward(padded)
                                           : few_output_conv(padded, L.tail->weight, L.tail->bias);
  if (options_.output == Output::kResidual) return add_change(out, image, padded);
  return out.tanh_();
}

torch::Tensor ResnetGeneratorImpl::add_change(torch::Tensor change, const torch::Tensor& image,
                                              const torch::Tensor& features_padded) {
  if (options_.chroma_grid > 0) change = low_pass_chroma(change, options_.chroma_grid);
  if (options_.desaturation_map) {
    auto& c = layers_->desaturation;
    auto z = torch::GradMode::is_enabled() ? c->forward(features_padded)
                                           : few_output_conv(features_padded, c->weight, c->bias);
    change = change + desaturation_change(image, z);
  }
  return change.add(image).clamp(-1, 1);
}

void ResnetGeneratorImpl::start_residual() {
  torch::NoGradGuard no_grad;
  layers_->tail->weight.zero_();
  layers_->tail->bias.zero_();
  options_.output = Output::kResidual;
}

void ResnetGeneratorImpl::set_upsampling(Upsampling upsampling) {
  if ((upsampling == Upsampling::kTransposed) != (options_.upsampling == Upsampling::kTransposed))
    throw std::invalid_argument(
        "generator: transposed-conv and resize-conv upsampling have different weights; "
        "a model cannot switch between them");
  options_.upsampling = upsampling;
}

void ResnetGeneratorImpl::set_chroma_grid(int grid) {
  if (grid < 0) throw std::invalid_argument("generator: chroma_grid must be >= 0");
  if (grid > 0 && options_.output != Output::kResidual)
    throw std::invalid_argument("generator: chroma_grid needs residual output");
  options_.chroma_grid = grid;
}

void ResnetGeneratorImpl::add_desaturation_map() {
  if (options_.output != Output::kResidual)
    throw std::invalid_argument("generator: desaturation_map needs residual output");
  auto& d = layers_->desaturation;
  if (d) return;
  d = register_module("desaturation", conv(options_.width, 1, 7, 1, 0, true));
  torch::NoGradGuard no_grad;
  d->weight.zero_();
  d->bias.zero_();
  d->to(layers_->tail->weight.device());
  options_.desaturation_map = true;
}

torch::Tensor desaturation_change(const torch::Tensor& image, const torch::Tensor& logits) {
  // Only towards grey: min(0, tanh) keeps a zero logit at "unchanged" with a live gradient
  // (clamp passes it at the bound), and positive logits cannot add colour. In float, as
  // low_pass_chroma.
  const auto img = image.to(torch::kFloat);
  const auto scale = torch::tanh(logits.to(torch::kFloat)).clamp_max(0.0);  // [N,1,H,W]
  const auto cbcr = chroma(img) * scale;
  return rgb_from_luma_chroma(torch::zeros_like(cbcr.select(1, 0)), cbcr).to(logits.scalar_type());
}

torch::Tensor low_pass_chroma(const torch::Tensor& change, int grid) {
  // In float whatever the autocast: a few ops on three planes, and bf16 would round the tints.
  const auto c = change.to(torch::kFloat);
  const auto cbcr = torch::upsample_bilinear2d(torch::adaptive_avg_pool2d(chroma(c), {grid, grid}),
                                               {c.size(2), c.size(3)}, /*align_corners=*/false);
  return rgb_from_luma_chroma(luma(c), cbcr).to(change.scalar_type());
}

ResnetGenerator make_seeded_generator(const GeneratorOptions& options, uint64_t seed,
                                      double condition_std) {
  ResnetGenerator g(options);
  auto gen = at::detail::createCPUGenerator(seed);
  torch::NoGradGuard no_grad;
  for (auto& p : g->named_parameters()) {
    const auto& name = p.key();
    auto& t = p.value();
    const bool is_weight = name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0;
    if (name.find("embed.weight") != std::string::npos) {
      // Rows are [gamma(C) | beta(C)] per condition: gamma ~ N(1, s), beta ~ N(0, s).
      const auto c = t.size(1) / 2;
      t.narrow(1, 0, c).normal_(1.0, condition_std, gen);
      t.narrow(1, c, c).normal_(0.0, condition_std, gen);
    } else if (name.find("norm") != std::string::npos) {
      if (is_weight)
        t.fill_(1.0);
      else
        t.zero_();
    } else if (is_weight) {
      t.normal_(0.0, 0.02, gen);
    } else {
      t.zero_();
    }
  }
  return g;
}

void use_channels_last(ResnetGenerator& generator) {
  torch::NoGradGuard no_grad;
  for (auto& p : generator->parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
}

int patchgan_layers_for_size(int image_size) {
  // Output side after n stride-2 layers and two stride-1 4x4 convs: size/2^n - 2. Keep >= 4.
  int layers = 3;
  while (layers > 1 && image_size / (1 << layers) - 2 < 4) --layers;
  return layers;
}

PatchDiscriminatorImpl::PatchDiscriminatorImpl(const DiscriminatorOptions& options) {
  if (options.width < 1 || options.layers < 1)
    throw std::invalid_argument("discriminator: width and layers must be positive");
  auto lrelu = [] {
    return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2).inplace(true));
  };
  auto in = [](int c) { return nn::InstanceNorm2d(nn::InstanceNorm2dOptions(c).affine(false)); };
  nn::Sequential seq;
  seq->push_back(conv(3, options.width, 4, 2, 1, true));
  seq->push_back(lrelu());
  int ch = options.width;
  for (int n = 1; n <= options.layers; ++n) {
    const int out = options.width * std::min(1 << n, 8);
    const int stride = n < options.layers ? 2 : 1;  // last one keeps the grid (C512 stride 1)
    seq->push_back(conv(ch, out, 4, stride, 1, false));
    seq->push_back(in(out));
    seq->push_back(lrelu());
    ch = out;
  }
  seq->push_back(conv(ch, 1, 4, 1, 1, true));
  model_ = register_module("model", seq);
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    const auto& name = p.key();
    if (name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0)
      p.value().normal_(0.0, 0.02);
    else
      p.value().zero_();
  }
}

torch::Tensor PatchDiscriminatorImpl::forward(torch::Tensor x) { return model_->forward(x); }

torch::nn::Sequential strided_classifier_trunk(int width, int layers) {
  namespace nn = torch::nn;
  nn::Sequential f;
  int in = 3;
  for (int i = 0; i < layers; ++i) {
    const int out = width << i;
    f->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 4).stride(2).padding(1).bias(false)));
    f->push_back(nn::BatchNorm2d(out));
    f->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)));
    in = out;
  }
  f->push_back(nn::AdaptiveAvgPool2d(1));
  f->push_back(nn::Flatten());
  return f;
}

torch::Tensor resize_square(const torch::Tensor& x, int size) {
  if (x.size(2) == size && x.size(3) == size) return x;
  namespace F = torch::nn::functional;
  auto opts = F::InterpolateFuncOptions().size(std::vector<int64_t>{size, size});
  if (x.size(2) > size) return F::interpolate(x, opts.mode(torch::kArea));
  return F::interpolate(x, opts.mode(torch::kBilinear).align_corners(false));
}

}  // namespace fc
