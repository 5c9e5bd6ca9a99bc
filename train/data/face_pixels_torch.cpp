// face_pixels.h without OpenCV (FACECYCLE_TORCH_ONLY): faces come from face packs only, and
// resampling is torch's own (grid_sample, area and bilinear interpolate). Its pixels differ from
// OpenCV's in the last bit, so a run here is not bit-identical to the same config under the
// daemon; both are deterministic.
#include <torch/torch.h>

#include <stdexcept>

#include "data/face_pixels.h"
#include "data/packed_faces.h"

namespace fc::train {
namespace F = torch::nn::functional;
namespace {

// [H, W, 3] uint8 <-> [1, 3, H, W] float in 0..255
torch::Tensor to_planes(const torch::Tensor& hwc) {
  return hwc.permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat32);
}
torch::Tensor to_hwc(const torch::Tensor& planes) {
  return planes.squeeze(0).round().clamp(0, 255).to(torch::kUInt8).permute({1, 2, 0}).contiguous();
}

torch::Tensor resize_planes(const torch::Tensor& x, int side) {
  if (x.size(2) == side && x.size(3) == side) return x;
  if (x.size(3) > side)
    return F::interpolate(
        x, F::InterpolateFuncOptions().size(std::vector<int64_t>{side, side}).mode(torch::kArea));
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{side, side})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

}  // namespace

torch::Tensor load_square_face(const std::string& path, int side) {
  const torch::Tensor face = packed_face_rgb(path);
  if (!face.defined())
    throw std::runtime_error("cannot read " + path +
                             ": this LibTorch-only build reads face packs only (data.dir naming "
                             "a pack from scripts/pack_utkface.py --faces)");
  const int64_t s = std::min(face.size(0), face.size(1));
  const torch::Tensor square =
      face.narrow(0, (face.size(0) - s) / 2, s).narrow(1, (face.size(1) - s) / 2, s);
  if (s == side) return square.contiguous();
  return to_hwc(resize_planes(to_planes(square), side));
}

torch::Tensor jitter_and_resize(const torch::Tensor& face, const Jitter* jitter, int size) {
  torch::Tensor x = to_planes(face);
  if (jitter) {
    // For each output pixel the source point p = A^-1 (q - c - t) + c, in align_corners
    // coordinates (-1 and 1 at the edge pixels' centres), where reflection mirrors about those
    // centres as OpenCV's BORDER_REFLECT101 does.
    const double w = static_cast<double>(face.size(1)), h = static_cast<double>(face.size(0));
    const double sx = (jitter->flip ? -1.0 : 1.0) / jitter->scale, sy = 1.0 / jitter->scale;
    const double ox = -2.0 * jitter->tx / (w - 1) * sx, oy = -2.0 * jitter->ty / (h - 1) * sy;
    const torch::Tensor theta =
        torch::tensor({sx, 0.0, ox, 0.0, sy, oy}, torch::kFloat32).view({1, 2, 3});
    const torch::Tensor grid = F::affine_grid(theta, x.sizes().vec(), /*align_corners=*/true);
    x = F::grid_sample(x, grid,
                       F::GridSampleFuncOptions()
                           .mode(torch::kBilinear)
                           .padding_mode(torch::kReflection)
                           .align_corners(true));
  }
  return to_hwc(resize_planes(x, size));
}

}  // namespace fc::train
