// The LibTorch-only build's resampling (face_pixels_torch.cpp) in plain single-threaded loops.
// The loader's worker threads call it for every face of every batch; torch's ops there would
// each fan out to the intra-op thread pool from every worker at once (docs/BENCHMARKS.md, "The
// data loader": one worker on 2 cores took 13-19 ms a batch of 32 at 128 px with 1 torch thread,
// 34-46 ms with 8). The results are
// torch's: grid_sample (bilinear, reflection, align_corners) for the jitter and
// adaptive_avg_pool2d (interpolate's "area") for shrinking, rounded half to even as
// torch::round does.
#pragma once

#include <cstdint>
#include <vector>

#include "data/face_pixels.h"  // Jitter

namespace fc::train {

// An [h, w, 3] RGB image in levels 0..255, kept in float between the steps so that it is
// rounded once, at the end, as the torch path rounds it.
struct LevelImage {
  int h = 0, w = 0;
  std::vector<float> v;  // h * w * 3, rows contiguous

  static LevelImage of(const uint8_t* rgb, int h, int w);
  void to_bytes(uint8_t* rgb) const;  // rounded half to even, clamped to 0..255
};

// The jitter applied at the image's own size: each output pixel samples the source bilinearly
// at the flipped, scaled and shifted point, mirrored about the edge pixels' centres (OpenCV's
// BORDER_REFLECT101) where it falls outside.
LevelImage warp_jitter(const LevelImage& src, const Jitter& j);

// Shrinks to side x side, each output pixel the mean of the source pixels its cell covers
// (PyTorch's adaptive average pooling: cell i spans [floor(i*n/side), ceil((i+1)*n/side))).
// Requires side <= h and side <= w.
LevelImage shrink_area(const LevelImage& src, int side);

}  // namespace fc::train
