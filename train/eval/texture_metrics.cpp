#include "eval/texture_metrics.h"

#include <torch/torch.h>

#include <stdexcept>

#include "facecycle/core/colour_space.h"

namespace fc::train {
namespace {

// Mean power spectrum of the windowed luminance: [S, S/2+1].
torch::Tensor mean_luma_power(const torch::Tensor& x) {
  const auto s = x.size(2);
  auto y = luma(x).to(torch::kFloat64);
  y = y - y.mean({1, 2}, /*keepdim=*/true);
  // The window keeps the image border's discontinuity from leaking power along both axes.
  auto w = torch::hann_window(s, /*periodic=*/false, torch::kFloat64);
  y = y * (w.view({s, 1}) * w.view({1, s}));
  return torch::fft::rfft2(y).abs().pow(2).mean(0);
}

}  // namespace

nlohmann::json TextureStats::to_json() const {
  return {{"hf_power_ratio", hf_power_ratio},
          {"spectral_peak_ratio", spectral_peak_ratio},
          {"spectral_peak_cycles_per_px", {peak_fy, peak_fx}}};
}

TextureStats compare_texture(const torch::Tensor& images, const torch::Tensor& reference,
                             double cutoff) {
  if (images.dim() != 4 || reference.dim() != 4 || images.size(1) != 3 ||
      images.sizes().slice(1) != reference.sizes().slice(1) || images.size(2) != images.size(3))
    throw std::invalid_argument("compare_texture: expects [N,3,S,S] images and reference");
  torch::NoGradGuard no_grad;
  const auto s = images.size(2);
  const auto p = mean_luma_power(images.to(torch::kCPU));
  const auto q = mean_luma_power(reference.to(torch::kCPU));
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  const auto fy = torch::fft::fftfreq(s, 1.0, opts).view({s, 1});
  const auto fx = torch::fft::rfftfreq(s, 1.0, opts).view({1, s / 2 + 1});
  const auto band = (fy * fy + fx * fx).sqrt().ge(cutoff);
  TextureStats t;
  t.hf_power_ratio = (p.masked_select(band).sum() / q.masked_select(band).sum()).item<double>();
  // Relative to the band's median ratio, so a peak stands out from blur or noise overall.
  auto ratio = p / q.clamp_min(1e-30);
  ratio = torch::where(band, ratio / ratio.masked_select(band).median(), torch::zeros_like(p));
  const auto at = ratio.argmax().item<int64_t>();
  const auto cols = ratio.size(1);
  t.spectral_peak_ratio = ratio.flatten()[at].item<double>();
  t.peak_fy = fy.flatten()[at / cols].item<double>();
  t.peak_fx = fx.flatten()[at % cols].item<double>();
  return t;
}

}  // namespace fc::train
