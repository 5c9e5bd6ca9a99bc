// face_pixels.h without OpenCV (FACECYCLE_TORCH_ONLY): faces come from face packs only. The
// jitter and shrinking are face_resample.h's loops, which give torch's grid_sample and area
// interpolation without their intra-op threads; enlarging is torch's bilinear interpolate. Its
// pixels differ from OpenCV's in the last bit, so a run here is not bit-identical to the same
// config under the daemon; both are deterministic.
#include <torch/torch.h>

#include <stdexcept>

#include "data/face_pixels.h"
#include "data/face_resample.h"
#include "data/packed_faces.h"

namespace fc::train {
namespace F = torch::nn::functional;
namespace {

// [1, 3, H, W] float in 0..255 -> [H, W, 3] uint8
torch::Tensor to_hwc(const torch::Tensor& planes) {
  return planes.squeeze(0).round().clamp(0, 255).to(torch::kUInt8).permute({1, 2, 0}).contiguous();
}

torch::Tensor enlarge(const torch::Tensor& planes, int side) {
  return to_hwc(F::interpolate(planes, F::InterpolateFuncOptions()
                                           .size(std::vector<int64_t>{side, side})
                                           .mode(torch::kBilinear)
                                           .align_corners(false)));
}

LevelImage levels_of(const torch::Tensor& hwc) {
  const torch::Tensor src = hwc.contiguous();
  return LevelImage::of(src.data_ptr<uint8_t>(), static_cast<int>(src.size(0)),
                        static_cast<int>(src.size(1)));
}

// The jitter (when given), then to side: shrunk by area or enlarged bilinearly, rounded once.
torch::Tensor resample(const torch::Tensor& hwc, const Jitter* jitter, int side) {
  LevelImage img = levels_of(hwc);
  if (jitter) img = warp_jitter(img, *jitter);
  if (img.h < side || img.w < side) {
    const torch::Tensor planes =
        torch::from_blob(img.v.data(), {img.h, img.w, 3}, torch::kFloat32).permute({2, 0, 1});
    return enlarge(planes.unsqueeze(0), side);  // from_blob's memory lives until it returns
  }
  if (img.h != side || img.w != side) img = shrink_area(img, side);
  torch::Tensor out = torch::empty({side, side, 3}, torch::kUInt8);
  img.to_bytes(out.data_ptr<uint8_t>());
  return out;
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
  return resample(square, nullptr, side);
}

torch::Tensor jitter_and_resize(const torch::Tensor& face, const Jitter* jitter, int size) {
  return resample(face, jitter, size);
}

}  // namespace fc::train
