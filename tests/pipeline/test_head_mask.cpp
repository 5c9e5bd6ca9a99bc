// composite's mask = "head" (the default): the whole head is edited, hair above the crop and
// the neck below it included, and everything else stays bit-identical. The scene is drawn: a
// textured background, dark hair rising above the crop, a cartoon face, a neck and a shirt.
#include <facecycle/core/face_geometry.h>
#include <facecycle/core/image_io.h>
#include <gtest/gtest.h>

#include "pipeline_helpers.h"

namespace {
using fc::testing::load_stage;

// Masks of the drawn parts, photo-sized CV_8U.
struct Scene {
  cv::Mat photo, hair, face, neck, shirt, background;
  std::vector<cv::Point2f> landmarks;
};

// Adds fine noise so that no region is flat (GrabCut's colour models expect texture).
void grain(cv::Mat& img, int seed) {
  cv::Mat noise(img.size(), CV_8UC3);
  cv::RNG(seed).fill(noise, cv::RNG::UNIFORM, 0, 24);
  img = img - cv::Scalar::all(12) + noise;
}

// A head of inter-ocular distance `iod` with its eyes' midpoint at `eyes`, on a blue-grey wall.
Scene draw_scene(cv::Size size, cv::Point2f eyes, float iod) {
  Scene s;
  s.photo.create(size, CV_8UC3);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x)
      s.photo.at<cv::Vec3b>(y, x) =
          cv::Vec3b(uchar(190 + 30 * x / size.width), uchar(175 + 20 * y / size.height), 150);
  auto part = [&](auto draw) {
    cv::Mat m(size, CV_8U, cv::Scalar(0));
    draw(m);
    return m;
  };
  auto at = [&](float dx, float dy) { return cv::Point(eyes + cv::Point2f(dx, dy) * iod); };
  s.shirt = part([&](cv::Mat& m) {
    cv::ellipse(m, at(0, 4.2f), cv::Size(int(2.6f * iod), int(2.0f * iod)), 0, 0, 360, 255, -1);
  });
  s.neck = part([&](cv::Mat& m) { cv::rectangle(m, at(-0.5f, 1.2f), at(0.5f, 2.5f), 255, -1); });
  s.hair = part([&](cv::Mat& m) {
    cv::ellipse(m, at(0, -0.2f), cv::Size(int(1.15f * iod), int(1.15f * iod)), 0, 0, 360, 255, -1);
  });
  s.photo.setTo(cv::Scalar(40, 110, 30), s.shirt);
  s.photo.setTo(cv::Scalar(120, 150, 195), s.neck);
  s.photo.setTo(cv::Scalar(30, 45, 70), s.hair);
  cv::Mat before = s.photo.clone();
  s.landmarks = fc::testing::draw_face(s.photo, eyes, iod, 0);
  cv::Mat diff;
  cv::absdiff(before, s.photo, diff);
  cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
  s.face = diff > 0;
  s.hair &= ~s.face;
  s.neck &= ~s.face;
  s.shirt &= ~(s.neck | s.face | s.hair);
  s.background = ~(s.hair | s.face | s.neck | s.shirt);
  grain(s.photo, 5);
  return s;
}

struct Edited {
  fc::PhotoItem item;
  cv::Mat weight;   // head_weight over the whole photo
  cv::Mat ellipse;  // the ellipse mask over the whole photo
};

// detect is skipped (the landmarks are known); crop, a translator, composite with `mask`.
Edited edit(const Scene& s, std::shared_ptr<fc::FaceTranslator> model,
            const std::string& mask = "head") {
  Edited e;
  e.item.image = s.photo.clone();
  fc::Face f;
  f.box = cv::boundingRect(s.face);
  f.score = 1.f;
  f.landmarks = s.landmarks;
  e.item.faces = {f};
  auto ctx = fc::testing::context(std::move(model));
  load_stage("crop")->process(e.item, ctx);
  load_stage("generate-age")->process(e.item, ctx);
  load_stage("composite", "mask = \"" + mask + "\"")->process(e.item, ctx);
  const fc::Face& g = e.item.faces[0];
  const fc::HeadWeight hw = fc::head_weight(s.photo, g.to_crop, g.crop.cols);
  e.weight = cv::Mat(s.photo.size(), CV_32F, cv::Scalar(0));
  hw.weight.copyTo(e.weight(hw.roi));
  cv::warpAffine(fc::face_mask(g.crop.cols), e.ellipse, g.to_crop, s.photo.size(),
                 cv::INTER_LINEAR | cv::WARP_INVERSE_MAP);
  return e;
}

double covered(const cv::Mat& weight, const cv::Mat& region) {
  return double(cv::countNonZero((weight > 0.5f) & region)) / cv::countNonZero(region);
}

// Pixels of `region` at least `gap` px from every part of the head (hair, face, neck).
cv::Mat far_from_head(const Scene& s, const cv::Mat& region, int gap) {
  cv::Mat head = s.hair | s.face | s.neck, near;
  cv::dilate(head, near, cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * gap + 1, 2 * gap + 1}));
  return region & ~near;
}

void expect_head_covered(const Scene& s) {
  const Edited e = edit(s, fc::testing::identity_translator(64));
  const fc::Face& f = e.item.faces[0];
  ASSERT_TRUE(f.skipped.empty()) << f.skipped;
  // The hair rises above the crop: the crop holds only part of the head.
  const cv::Rect crop = cv::Rect(fc::crop_bounds_in_image(f.to_crop, f.crop.cols));
  EXPECT_GT(crop.y, cv::boundingRect(s.hair).y + 10) << "hair above the crop";

  EXPECT_GT(covered(e.weight, s.hair), 0.9) << "head mask: hair";
  EXPECT_LT(covered(e.ellipse, s.hair), 0.3) << "the ellipse leaves the hair";
  EXPECT_GT(covered(e.weight, s.face), 0.97);
  EXPECT_GT(covered(e.weight, s.neck), 0.6) << "the neck, down to where the shirt begins";
  // Shirt and wall away from the head are never in the mask: 0, not just small. Away: half
  // the outline's feather (0.04 of the crop) plus one GrabCut pixel (the view is 2.2 crops on
  // 96 px) plus one; 10 px for a 202 px crop.
  const int gap = int(std::ceil(f.crop.cols * (0.02 + 2.2 / 96))) + 1;
  EXPECT_EQ(cv::countNonZero((e.weight > 0.f) & far_from_head(s, s.background, gap)), 0);
  EXPECT_EQ(cv::countNonZero((e.weight > 0.f) & far_from_head(s, s.shirt, gap)), 0);
  // ... including the wall inside the crop, beside the hair.
  cv::Mat in_crop(s.photo.size(), CV_8U, cv::Scalar(0));
  in_crop(crop & cv::Rect({}, s.photo.size())).setTo(255);
  EXPECT_GT(cv::countNonZero(far_from_head(s, s.background, gap) & in_crop), crop.area() / 20);
}

TEST(HeadMask, CoversHairAboveTheCropAndTheNeckButNotTheBackground) {
  {
    SCOPED_TRACE("inter-ocular 80 px");
    expect_head_covered(draw_scene({900, 760}, {450, 300}, 80));
  }
  {
    SCOPED_TRACE("inter-ocular 45 px");
    expect_head_covered(draw_scene({640, 480}, {260, 200}, 45));
  }
}

TEST(HeadMask, PixelsAwayFromTheHeadStayBitIdenticalThroughPng) {
  const Scene s = draw_scene({900, 760}, {450, 300}, 80);
  const Edited e = edit(s, fc::testing::invert_translator());
  const auto dir = fc::testing::temp_dir("head");
  const std::string out = (dir / "out.png").string();
  fc::write_image_atomic(out, e.item.result, "png", {});
  cv::Mat back = fc::read_image(out).bgr;
  std::filesystem::remove_all(dir);
  cv::Mat diff;
  cv::absdiff(back, s.photo, diff);
  cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
  EXPECT_EQ(cv::countNonZero((diff > 0) & (e.weight <= 0.f)), 0) << "changed outside the mask";
  EXPECT_EQ(cv::countNonZero((diff > 0) & far_from_head(s, s.background | s.shirt, 10)), 0);
  EXPECT_GT(cv::countNonZero((diff > 0) & s.hair), 0.9 * cv::countNonZero(s.hair))
      << "the hair was edited";
}

// Outside the crop the photo gets the change the generator made to the same colours inside it:
// hair the translator lightens is lightened above the crop too.
TEST(HeadMask, TheGeneratorsHairChangeReachesHairAboveTheCrop) {
  const Scene s = draw_scene({900, 760}, {450, 300}, 80);
  auto lighten_dark = std::make_shared<fc::testing::FakeTranslator>([](const cv::Mat& m) {
    cv::Mat grey, out = m.clone();
    cv::cvtColor(m, grey, cv::COLOR_BGR2GRAY);
    out.setTo(cv::Scalar(150, 150, 150), grey < 80);  // "grey hair"
    return out;
  });
  const Edited e = edit(s, lighten_dark);
  const fc::Face& f = e.item.faces[0];
  const cv::Rect crop = cv::Rect(fc::crop_bounds_in_image(f.to_crop, f.crop.cols));
  cv::Mat above(s.photo.size(), CV_8U, cv::Scalar(0));
  above(cv::Rect(0, 0, s.photo.cols, crop.y)).setTo(255);
  const cv::Mat hair_above = s.hair & above;
  ASSERT_GT(cv::countNonZero(hair_above), 2000);
  const double before = cv::mean(s.photo, hair_above)[0];
  const double after = cv::mean(e.item.result, hair_above)[0];
  EXPECT_GT(after - before, 0.7 * (150 - before)) << "before " << before << ", after " << after;
  // The wall above the crop keeps its colour.
  EXPECT_EQ(
      cv::norm(e.item.result, s.photo, cv::NORM_INF, far_from_head(s, s.background, 6) & above),
      0.0);
}

TEST(HeadMask, TheEllipseMaskIsStillASetting) {
  const Scene s = draw_scene({900, 760}, {450, 300}, 80);
  const Edited e = edit(s, fc::testing::invert_translator(), "ellipse");
  cv::Mat diff;
  cv::absdiff(e.item.result, s.photo, diff);
  cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
  EXPECT_EQ(cv::countNonZero((diff > 0) & (e.ellipse <= 0.f)), 0);
  EXPECT_LT(cv::countNonZero((diff > 0) & s.hair), 0.3 * cv::countNonZero(s.hair));
  try {
    load_stage("composite", "mask = \"hair\"");
    FAIL() << "mask = hair accepted";
  } catch (const std::exception& ex) {
    EXPECT_NE(std::string(ex.what()).find("mask"), std::string::npos) << ex.what();
  }
}

// The same photo gives the same weight, and the caller's random state is left as it was.
TEST(HeadMask, IsReproducible) {
  const Scene s = draw_scene({900, 760}, {450, 300}, 80);
  const cv::Mat m = fc::crop_transform_from_landmarks(s.landmarks, 200);
  cv::theRNG().state = 12345;
  const fc::HeadWeight a = fc::head_weight(s.photo, m, 200);
  EXPECT_EQ(cv::theRNG().state, 12345u);
  cv::theRNG().next();
  const fc::HeadWeight b = fc::head_weight(s.photo, m, 200);
  ASSERT_EQ(a.roi, b.roi);
  EXPECT_EQ(cv::norm(a.weight, b.weight, cv::NORM_INF), 0.0);
}

}  // namespace
