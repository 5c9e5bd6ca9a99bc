// Texture artefacts of generated images, measured in the frequency domain against real photos:
// checkerboard and banding are narrow peaks in the power spectrum, noise texture raises the
// whole high band, blur lowers it.
#pragma once

#include <torch/types.h>

#include <nlohmann/json.hpp>

namespace fc::train {

struct TextureStats {
  // Mean high-band power of `images` over that of `reference` (1 = the reference's texture,
  // > 1 added texture or noise, < 1 blur).
  double hf_power_ratio = 0;
  // Largest per-frequency power ratio in the high band: checkerboard (Nyquist) and periodic
  // bands stand out here; two sets of 64 real faces differ by about 1.5-2 from sampling alone.
  double spectral_peak_ratio = 0;
  double peak_fy = 0, peak_fx = 0;  // where, in cycles per pixel (0.5 = Nyquist)

  nlohmann::json to_json() const;
};

// images, reference: [N,3,S,S] and [M,3,S,S] float RGB in [-1,1], same S. Compares the mean
// Hann-windowed luminance power spectra at radial frequencies >= cutoff (cycles per pixel).
TextureStats compare_texture(const torch::Tensor& images, const torch::Tensor& reference,
                             double cutoff = 0.25);

}  // namespace fc::train
