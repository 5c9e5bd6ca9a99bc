// The trainer's only contact with image files and resampling, so that the same trainer builds
// with OpenCV (face_pixels_opencv.cpp: the daemon's train plugin) and without it
// (face_pixels_torch.cpp: FACECYCLE_TORCH_ONLY, reading face packs only; docs/GPU.md).
// Faces are [S, S, 3] uint8 RGB tensors, contiguous.
#pragma once

#include <torch/types.h>

#include <string>

namespace fc::train {

// Reads a face (a file, or a face pack's PACK/NAME), centre-crops it to a square and resizes it
// to side x side (area filter when shrinking). Throws naming the file when it cannot be read;
// the LibTorch-only build reads face packs only and says so for other paths.
torch::Tensor load_square_face(const std::string& path, int side);

// One augmentation draw: a horizontal flip and a scale about the centre, then a shift in pixels.
struct Jitter {
  bool flip = false;
  double scale = 1.0;
  double tx = 0, ty = 0;
};

// Applies the jitter (when given; bilinear, mirrored border) at the face's own size, then
// resizes to `size` (area filter when shrinking).
torch::Tensor jitter_and_resize(const torch::Tensor& face, const Jitter* jitter, int size);

}  // namespace fc::train
