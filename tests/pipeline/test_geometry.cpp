// Crop/composite geometry: the affine puts faces where UTKFace chips have them, inverts back to
// within a fraction of a pixel, and compositing an unchanged face restores the photo.
#include <facecycle/core/face_geometry.h>
#include <gtest/gtest.h>

#include "pipeline_helpers.h"

namespace {
using fc::ChipFraming;

TEST(Geometry, LandmarkAlignmentPutsLevelEyesAtTheChipPositions) {
  const int size = 128;
  const double k = size / ChipFraming::kSize;
  for (float deg : {-25.f, 0.f, 12.f}) {
    cv::Mat img(600, 800, CV_8UC3, cv::Scalar::all(0));
    auto lm = fc::testing::draw_face(img, {400, 300}, 90, deg);
    cv::Mat m = fc::crop_transform_from_landmarks(lm, size);
    cv::Point2d re = fc::apply_affine(m, lm[0]), le = fc::apply_affine(m, lm[1]);
    EXPECT_NEAR(re.y, le.y, 1e-6) << "eyes level at " << deg << " degrees";
    EXPECT_NEAR(re.y, ChipFraming::kEyeY * k, 1e-6);
    EXPECT_NEAR((re.x + le.x) / 2, ChipFraming::kEyeCentreX * k, 1e-6);
    EXPECT_LT(re.x, le.x) << "right eye on the crop's left, as in the chips";
    // Our cartoon's eye-mouth distance is short, so the eye distance sets the scale.
    EXPECT_NEAR(le.x - re.x, ChipFraming::kInterOcular * k, 1e-6);
    // Round trip photo -> crop -> photo.
    cv::Mat inv = fc::invert_affine(m);
    for (const auto& p : lm) {
      cv::Point2d back = fc::apply_affine(inv, fc::apply_affine(m, p));
      EXPECT_LT(cv::norm(back - cv::Point2d(p)), 1e-9);
    }
  }
}

TEST(Geometry, ForeshorteningDoesNotShrinkTheFrame) {
  // Yaw halves the eye distance; the eye-mouth distance keeps the scale honest.
  std::vector<cv::Point2f> frontal = {
      {60, 56.9f}, {139.2f, 56.9f}, {100, 100}, {62, 134.3f}, {131, 134.3f}};
  auto yawed = frontal;
  for (auto& p : yawed) p.x = 100 + (p.x - 100) * 0.5f;
  cv::Mat a = fc::crop_transform_from_landmarks(frontal, 200);
  cv::Mat b = fc::crop_transform_from_landmarks(yawed, 200);
  EXPECT_NEAR(cv::determinant(a.colRange(0, 2)), 1.0, 0.02);
  EXPECT_NEAR(cv::determinant(b.colRange(0, 2)), 1.0, 0.02);
}

TEST(Geometry, BoxFramingReproducesTheMeasuredChipBox) {
  // A Haar box where the measurement found it on a 200 px chip maps to that chip.
  cv::Mat m =
      fc::crop_transform_from_box({-4.38f + 300, -20.27f + 100, 206.74f, 206.74f}, "haar", 200);
  cv::Point2d tl = fc::apply_affine(m, {300, 100});
  EXPECT_NEAR(tl.x, 0, 0.01);
  EXPECT_NEAR(tl.y, 0, 0.01);
  EXPECT_NEAR(m.at<double>(0, 0), 1.0, 1e-6);
  EXPECT_EQ(m.at<double>(0, 1), 0.0);
  // Half-size box, crop 100: the same relation at a quarter of the scale.
  cv::Mat h = fc::crop_transform_from_box({0, 0, 103.37f, 103.37f}, "haar", 100);
  EXPECT_NEAR(h.at<double>(0, 0), 100.0 / 200.0 * 206.74 / 103.37, 1e-3);
}

TEST(Geometry, CropOfAFaceAtTheBorderIsMirroredAndPartlyInside) {
  cv::Mat img = fc::testing::smooth_photo({300, 200});
  cv::Mat m = fc::crop_transform_from_box({-40, 50, 100, 100}, "haar", 128);
  double inside = fc::crop_fraction_inside(m, 128, img.size());
  EXPECT_GT(inside, 0.4);
  EXPECT_LT(inside, 0.8);
  cv::Mat crop = fc::warp_to_crop(img, m, 128);
  ASSERT_EQ(crop.size(), cv::Size(128, 128));
  // BORDER_REFLECT: no black (constant) fill in the outside part.
  cv::Mat col0;
  cv::extractChannel(crop.col(0), col0, 0);
  double lo;
  cv::minMaxLoc(col0, &lo);
  EXPECT_GE(lo, 15.0);
}

TEST(Geometry, MaskIsOneInTheFaceZeroAtTheCropEdgeAndSmooth) {
  cv::Mat mask = fc::face_mask(128);
  EXPECT_FLOAT_EQ(mask.at<float>(66, 64), 1.f);
  for (int i = 0; i < 128; ++i) {
    EXPECT_EQ(mask.at<float>(0, i), 0.f);
    EXPECT_EQ(mask.at<float>(i, 0), 0.f);
    EXPECT_EQ(mask.at<float>(i, 127), 0.f);
  }
  // Feather 0.12 of 128 px spread over >= 15 px: no step above 1.5/15 between neighbours.
  cv::Mat dx;
  cv::absdiff(mask.colRange(1, 128), mask.colRange(0, 127), dx);
  double hi;
  cv::minMaxLoc(dx, nullptr, &hi);
  EXPECT_LT(hi, 0.1);
}

TEST(Geometry, CompositingAnUnchangedFaceRestoresThePhoto) {
  cv::Mat photo = fc::testing::smooth_photo({640, 480});
  auto lm = fc::testing::draw_face(photo, {320, 220}, 70, 15);
  cv::GaussianBlur(photo, photo, {0, 0}, 1.5);  // smooth the cartoon's edges too
  const int size = 128;
  cv::Mat m = fc::crop_transform_from_landmarks(lm, size);
  cv::Mat crop = fc::warp_to_crop(photo, m, size);
  cv::Mat result = photo.clone();
  fc::composite_face(result, crop, crop, m);

  // Where the mask is 1, the result is the photo resampled twice (crop, then back): bilinear
  // error on a smooth image stays within a few grey levels; outside the mask it is exact.
  cv::Mat mask;
  cv::warpAffine(fc::face_mask(size), mask, m, photo.size(),
                 cv::INTER_LINEAR | cv::WARP_INVERSE_MAP);
  cv::Mat diff;
  cv::absdiff(result, photo, diff);
  cv::Mat diff1;
  cv::cvtColor(diff, diff1, cv::COLOR_BGR2GRAY);
  cv::Scalar mean_in = cv::mean(diff1, mask > 0.99f);
  double max_in, max_out;
  cv::minMaxLoc(diff1, nullptr, &max_in, nullptr, nullptr, mask > 0.f);
  cv::minMaxLoc(diff1, nullptr, &max_out, nullptr, nullptr, mask == 0.f);
  EXPECT_LT(mean_in[0], 1.5);
  EXPECT_LT(max_in, 20.0);
  EXPECT_EQ(max_out, 0.0);
  EXPECT_GT(cv::countNonZero(mask > 0.99f), 5000) << "the mask covers the face";
}

TEST(Geometry, SeamAtTheMaskBorderIsBoundedByTheFeather) {
  // A flat grey photo and a flat, very different generated face. Seam metric: the largest
  // step between 4-neighbours anywhere in the result. A square paste would step by the full
  // colour difference (up to 88 levels here). With a smoothstep feather of width F photo
  // pixels the steepest step is 1.5 * diff / F (smoothstep's peak slope) + 1 for rounding;
  // colour matching at the ring only lowers it.
  cv::Mat photo(400, 400, CV_8UC3, cv::Scalar(128, 128, 128));
  const int size = 128;
  cv::Mat m = fc::crop_transform_from_box({150, 150, 100, 100}, "haar", size);
  cv::Mat crop = fc::warp_to_crop(photo, m, size);
  cv::Mat gen(size, size, CV_8UC3, cv::Scalar(40, 200, 90));
  cv::Mat result = photo.clone();
  fc::composite_face(result, crop, gen, m);

  auto max_step = [](const cv::Mat& img) {
    cv::Mat f, dx, dy;
    img.convertTo(f, CV_32F);
    cv::absdiff(f.colRange(1, f.cols), f.colRange(0, f.cols - 1), dx);
    cv::absdiff(f.rowRange(1, f.rows), f.rowRange(0, f.rows - 1), dy);
    double a, b;
    cv::minMaxLoc(dx.reshape(1), nullptr, &a);
    cv::minMaxLoc(dy.reshape(1), nullptr, &b);
    return std::max(a, b);
  };
  const double scale = fc::crop_scale(m);  // crop px per photo px
  const fc::MaskShape shape;
  const double feather_px = shape.feather * size / scale;
  const double bound = 1.5 * 88.0 / feather_px + 1.0;
  EXPECT_LT(max_step(result), bound) << "feather " << feather_px << " px";
  EXPECT_GT(cv::norm(result, photo, cv::NORM_INF), 40.0) << "the face was pasted";

  // The metric can fail: a hard square paste breaks the bound.
  cv::Mat hard = photo.clone();
  hard(cv::Rect(150, 150, 100, 100)).setTo(cv::Scalar(40, 200, 90));
  EXPECT_GT(max_step(hard), bound);
}

TEST(Geometry, IouOfBoxes) {
  EXPECT_FLOAT_EQ(fc::box_iou({0, 0, 10, 10}, {0, 0, 10, 10}), 1.f);
  EXPECT_FLOAT_EQ(fc::box_iou({0, 0, 10, 10}, {5, 0, 10, 10}), 50.f / 150.f);
  EXPECT_FLOAT_EQ(fc::box_iou({0, 0, 10, 10}, {20, 20, 5, 5}), 0.f);
}

}  // namespace
