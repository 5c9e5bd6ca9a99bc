// The pipeline with a real generator from fc::load_translator (a small deterministic model as
// `fc-model init` writes it): runs end to end, is reproducible, and only edits inside masks.
#include <facecycle/core/face_geometry.h>
#include <facecycle/core/model_file.h>
#include <facecycle/core/translator.h>
#include <gtest/gtest.h>

#include "pipeline_helpers.h"

namespace {
namespace fs = std::filesystem;

TEST(RealModel, PipelineIsDeterministicAndEditsOnlyInsideMasks) {
  const auto dir = fc::testing::temp_dir("model");
  const std::string path = (dir / "tiny.pt").string();
  fc::GeneratorOptions go;
  go.width = 8;
  go.blocks = 1;
  fc::write_seeded_model(path, go, 64, 5, "tiny-seeded");
  fc::TranslatorOptions to;
  to.device = fc::DeviceChoice::kCpu;
  to.threads = 1;
  auto model = fc::load_translator(path, to);
  fs::remove_all(dir);

  cv::Mat photo = fc::testing::smooth_photo({480, 360});
  auto lm1 = fc::testing::draw_face(photo, {150, 170}, 60, 0);
  auto lm2 = fc::testing::draw_face(photo, {340, 180}, 50, -10);
  auto run = [&](const std::string& generator, bool reverse) {
    fc::PhotoItem item;
    item.image = photo;
    item.reverse = reverse;
    fc::Face a, b;
    a.box = {110, 130, 80, 100};
    a.landmarks = lm1;
    b.box = {305, 145, 70, 85};
    b.landmarks = lm2;
    item.faces = {a, b};
    auto ctx = fc::testing::context(model);
    for (const std::string s : {"crop", generator.c_str(), "composite"})
      fc::testing::load_stage(s)->process(item, ctx);
    return item;
  };
  fc::PhotoItem one = run("generate-age", false), two = run("generate-age", false);
  EXPECT_EQ(one.model_name, "tiny-seeded");
  EXPECT_NEAR(one.faces[0].crop.cols, 152, 2)
      << "the face's own size (iod 60 px), above the model's 64";
  EXPECT_EQ(one.report["faces_composited"], "2");
  EXPECT_EQ(cv::norm(one.result, two.result, cv::NORM_INF), 0.0) << "same model, same output";
  EXPECT_GT(cv::norm(one.result, photo, cv::NORM_INF), 10.0) << "the faces changed";

  // composite's default mask is the whole head (fc::head_weight).
  cv::Mat inside(photo.size(), CV_8U, cv::Scalar(0));
  for (const auto& f : one.faces) {
    const fc::HeadWeight hw = fc::head_weight(photo, f.to_crop, f.crop.cols);
    cv::Mat roi = inside(hw.roi);
    roi |= (hw.weight > 0.f);
  }
  cv::Mat diff, changed;
  cv::absdiff(one.result, photo, diff);
  cv::cvtColor(diff, changed, cv::COLOR_BGR2GRAY);
  EXPECT_EQ(cv::countNonZero((changed > 0) & ~inside), 0);

  // Another condition gives another result.
  fc::PhotoItem race = run("generate-race", true);
  EXPECT_GT(cv::norm(race.result, one.result, cv::NORM_INF), 0.0);
}

}  // namespace
