// Stage "crop": one aligned square crop per face, framed like UTKFace's chips, at the face's own
// scale. The translator shrinks it to the model's resolution and adds the model's change back at
// this size (keep_detail), so a large face keeps its own detail; a crop made at the model's
// 64 px would come back as an upscaled, blurred face.
#include <facecycle/core/face_geometry.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/imgproc.hpp>

#include "stage_config.h"

namespace fc::stages {

class CropStage : public Stage {
 public:
  explicit CropStage(const PluginConfig& c) : CropStage(PluginSettings(c)) {}

  void process(PhotoItem& item, HostContext& ctx) override {
    if (item.image.empty()) throw std::runtime_error("crop: the item has no decoded image");
    const int size = ctx.model ? ctx.model->card().resolution : default_size_;
    if (item.whole_image) {
      Face f;
      f.box = {0, 0, float(item.image.cols), float(item.image.rows)};
      f.score = 1.f;
      const int own = clamp_size(std::max(item.image.cols, item.image.rows), size);
      f.to_crop = whole_image_transform(item.image.size(), own);
      cv::resize(item.image, f.crop, {own, own}, 0, 0, cv::INTER_AREA);
      item.faces = {std::move(f)};
      return;
    }
    const std::string detector =
        item.report.count("detector") ? item.report.at("detector") : std::string("haar");
    // Bigger faces first, so overlaps skip the smaller face.
    std::vector<size_t> order(item.faces.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return item.faces[a].box.area() > item.faces[b].box.area();
    });
    std::vector<size_t> kept;
    int cropped = 0;
    for (size_t idx : order) {
      Face& f = item.faces[idx];
      if (!f.skipped.empty()) continue;
      const float side = std::min(f.box.width, f.box.height);
      if (side < min_face_) {
        f.skipped = "too small (" + std::to_string(int(side)) + " px, minimum " +
                    std::to_string(int(min_face_)) + " px)";
        continue;
      }
      for (size_t k : kept) {
        const float iou = box_iou(f.box, item.faces[k].box);
        if (iou > max_overlap_) {
          char buf[96];
          std::snprintf(buf, sizeof buf, "overlaps a bigger face (IoU %.2f > %.2f)", iou,
                        max_overlap_);
          f.skipped = buf;
          break;
        }
      }
      if (!f.skipped.empty()) continue;
      f.to_crop = cv::Mat();
      if (f.landmarks.size() >= 5) {
        try {
          f.to_crop = crop_transform_from_landmarks(f.landmarks, size);
        } catch (const std::invalid_argument&) {
          // degenerate landmarks: frame by the box instead
        }
      }
      if (f.to_crop.empty()) f.to_crop = crop_transform_from_box(f.box, detector, size);
      const double inside = crop_fraction_inside(f.to_crop, size, item.image.size());
      if (inside < min_inside_) {
        f.skipped = "mostly outside the photo (" + std::to_string(int(inside * 100)) +
                    "% of the crop inside)";
        continue;
      }
      // Same framing, scaled to about one crop pixel per photo pixel.
      const int own = clamp_size(int(std::lround(size / crop_scale(f.to_crop))), size);
      f.to_crop = f.to_crop * (double(own) / size);
      f.crop = warp_to_crop(item.image, f.to_crop, own);
      kept.push_back(idx);
      ++cropped;
    }
    item.report["faces_cropped"] = std::to_string(cropped);
    log_to(ctx, LogLevel::kDebug,
           "crop: " + std::to_string(cropped) + " of " + std::to_string(item.faces.size()) +
               " faces, model size " + std::to_string(size) + " px");
  }

 private:
  explicit CropStage(PluginSettings&& s)
      : min_face_(float(s.number("min_face", 24, 1, 10000))),
        max_overlap_(float(s.number("max_overlap_iou", 0.3, 0, 1))),
        min_inside_(s.number("min_inside", 0.5, 0, 1)),
        default_size_(int(s.integer("crop_size", 128, 16, 4096))),
        max_size_(int(s.integer("max_crop_size", 512, 16, 4096))) {
    s.finish();
  }

  // The face's own size, at least the model's resolution (smaller faces are upsampled as
  // before) and at most max_crop_size (memory and time per face stay bounded).
  int clamp_size(int own, int model_size) const {
    return std::clamp(own, model_size, std::max(model_size, max_size_));
  }

  float min_face_, max_overlap_;
  double min_inside_;
  int default_size_, max_size_;
};

}  // namespace fc::stages

FACECYCLE_STAGE_PLUGIN("crop", "Aligned square face crops framed like UTKFace chips",
                       fc::stages::CropStage)
