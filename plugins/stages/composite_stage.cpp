// Stage "composite": pastes generated faces back into the photo with feathered, colour-matched
// elliptical masks. Pixels outside every mask stay bit-identical to item.image.
#include <facecycle/core/face_geometry.h>

#include <opencv2/imgproc.hpp>

#include "stage_config.h"

namespace fc::stages {

class CompositeStage : public Stage {
 public:
  explicit CompositeStage(const PluginConfig& c) {
    shape_.feather = config_number(c, "feather", shape_.feather, 0.01, 0.4);
  }

  void process(PhotoItem& item, HostContext& ctx) override {
    if (item.image.empty()) throw std::runtime_error("composite: the item has no decoded image");
    item.result = item.image.clone();
    int edited = 0, skipped = 0;
    std::string reasons;
    for (size_t i = 0; i < item.faces.size(); ++i) {
      const Face& f = item.faces[i];
      std::string why = f.skipped;
      if (why.empty() && f.generated.empty()) why = "no generated face";
      if (!why.empty()) {
        ++skipped;
        reasons += (reasons.empty() ? "" : "; ") + ("face " + std::to_string(i + 1) + ": " + why);
        continue;
      }
      if (item.whole_image) {
        cv::resize(f.generated, item.result, item.image.size(), 0, 0, cv::INTER_CUBIC);
      } else {
        composite_face(item.result, f.crop, f.generated, f.to_crop, shape_);
      }
      ++edited;
    }
    // Not faces_edited/faces_skipped: the daemon derives those (typed) from item.faces and
    // merges item.report over its report, so the same names would overwrite them with strings.
    item.report["faces_composited"] = std::to_string(edited);
    item.report["faces_unedited"] = std::to_string(skipped);
    if (!reasons.empty()) item.report["skip_reasons"] = reasons;
    if (ctx.progress) ctx.progress(1.0, std::to_string(edited) + " faces edited");
  }

 private:
  MaskShape shape_;
};

}  // namespace fc::stages

FACECYCLE_STAGE_PLUGIN("composite", "Blends generated faces back into the photo",
                       fc::stages::CompositeStage)
