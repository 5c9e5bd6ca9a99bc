// Stage "composite": pastes generated faces back into the photo with feathered, colour-matched
// masks: the whole head (hair, forehead, ears, neck; setting mask = "head", the default) or the
// inner-face ellipse (mask = "ellipse"). Pixels outside every mask stay bit-identical to
// item.image.
#include <facecycle/core/face_geometry.h>

#include <opencv2/imgproc.hpp>

#include "stage_config.h"

namespace fc {

namespace stages {
enum class MaskKind { kHead, kEllipse };
}  // namespace stages

// How [plugins.composite] mask = "..." spells each shape; the first is the default.
template <>
struct EnumNames<stages::MaskKind> {
  static constexpr std::pair<stages::MaskKind, const char*> table[] = {
      {stages::MaskKind::kHead, "head"}, {stages::MaskKind::kEllipse, "ellipse"}};
};

}  // namespace fc

namespace fc::stages {

class CompositeStage : public Stage {
 public:
  explicit CompositeStage(const PluginConfig& c) {
    PluginSettings s(c);
    shape_.feather = s.number("feather", shape_.feather, 0.01, 0.4);
    shape_.head_feather = s.number("head_feather", shape_.head_feather, 0.005, 0.2);
    head_ = s.choice<MaskKind>("mask", MaskKind::kHead) == MaskKind::kHead;
    s.finish();
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
        if (head_)  // segmented on the input, not on a result earlier faces were pasted into
          composite_head(item.result, item.image, f.crop, f.generated, f.to_crop, shape_);
        else
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
  bool head_ = true;
};

}  // namespace fc::stages

FACECYCLE_STAGE_PLUGIN("composite",
                       "Blends generated heads back into the photo (mask = head | ellipse)",
                       fc::stages::CompositeStage)
