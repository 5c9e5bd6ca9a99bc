// The stage plugins through the plugin ABI, with a fake translator: the pipeline edits faces,
// skips overlapping, tiny and off-photo faces with reasons, leaves every other pixel
// bit-identical through a PNG write/read, and handles whole-image chips.
#include <facecycle/core/face_geometry.h>
#include <facecycle/core/image_io.h>
#include <gtest/gtest.h>

#include "pipeline_helpers.h"

namespace {
namespace fs = std::filesystem;
using fc::testing::load_stage;

// What creating `stage` with `toml` as its [plugins.NAME] table throws, or "accepted".
std::string start_error(const std::string& stage, const std::string& toml) {
  try {
    load_stage(stage, toml);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "accepted";
}

struct Pipeline {
  std::unique_ptr<fc::Stage> crop = load_stage("crop"), generate = load_stage("generate-age"),
                             composite = load_stage("composite");
  void run(fc::PhotoItem& item, fc::HostContext& ctx) {
    crop->process(item, ctx);
    generate->process(item, ctx);
    composite->process(item, ctx);
  }
};

fc::Face face_at(cv::Rect2f box, std::vector<cv::Point2f> lm = {}) {
  fc::Face f;
  f.box = box;
  f.score = 1.f;
  f.landmarks = std::move(lm);
  return f;
}

TEST(Stages, EditsFacesAndLeavesEveryOtherPixelBitIdenticalThroughPng) {
  cv::Mat photo = fc::testing::smooth_photo({900, 600});
  auto lm1 = fc::testing::draw_face(photo, {250, 250}, 80, -8);
  auto lm2 = fc::testing::draw_face(photo, {620, 300}, 60, 5);
  fc::PhotoItem item;
  item.image = photo.clone();
  item.task = "age";
  item.faces = {face_at({180, 200, 140, 180}, lm1), face_at({570, 260, 100, 130}, lm2)};
  auto model = fc::testing::invert_translator(96);
  auto ctx = fc::testing::context(model);
  Pipeline p;
  p.run(item, ctx);

  EXPECT_EQ(model->calls, 1) << "one translate call per photo";
  EXPECT_EQ(model->last_batch, 2);
  EXPECT_EQ(model->last_task, "age");
  EXPECT_EQ(item.model_name, "fake");
  for (const auto& f : item.faces) {
    ASSERT_EQ(f.crop.rows, f.crop.cols);
    EXPECT_NEAR(fc::crop_scale(f.to_crop), 1.0, 0.02)
        << "cropped at the face's own scale, not the model's 96 px";
  }
  EXPECT_NEAR(item.faces[0].crop.cols, 202, 3) << "iod 80 px, chips frame iod 79.2 of 200";
  EXPECT_EQ(item.report["faces_composited"], "2");
  ASSERT_EQ(item.result.size(), photo.size());

  const auto dir = fc::testing::temp_dir("stages");
  const std::string out = (dir / "out.png").string();
  fc::write_image_atomic(out, item.result, "png", {{"facecycle:model", item.model_name}});
  cv::Mat back = fc::read_image(out).bgr;
  fs::remove_all(dir);

  // The union of the head masks composite used (mask = "head", the default); every changed
  // pixel must lie inside it.
  cv::Mat inside(photo.size(), CV_8U, cv::Scalar(0));
  for (const auto& f : item.faces) {
    const fc::HeadWeight hw = fc::head_weight(photo, f.to_crop, f.crop.cols);
    cv::Mat roi = inside(hw.roi);
    roi |= (hw.weight > 0.f);
  }
  cv::Mat changed;
  cv::Mat diff;
  cv::absdiff(back, photo, diff);
  cv::cvtColor(diff, changed, cv::COLOR_BGR2GRAY);
  changed = changed > 0;
  EXPECT_EQ(cv::countNonZero(changed & ~inside), 0) << "pixels changed outside every mask";
  EXPECT_GT(cv::countNonZero(changed), 8000) << "the faces were edited";
  // The eye of face 1 is inverted (dark -> light).
  EXPECT_GT(cv::mean(back(cv::Rect(cv::Point(lm1[0]) - cv::Point(3, 3), cv::Size(6, 6))))[0],
            150.0);
}

TEST(Stages, SkipsOverlappingTinyAndOffPhotoFacesWithReasons) {
  cv::Mat photo = fc::testing::smooth_photo({640, 480});
  fc::PhotoItem item;
  item.image = photo;
  item.faces = {
      face_at({100, 100, 120, 120}),  // 0: big
      face_at({140, 120, 100, 100}),  // 1: overlaps 0 (IoU ~0.46)
      face_at({400, 300, 16, 16}),    // 2: tiny
      face_at({-90, 300, 100, 100}),  // 3: mostly outside the photo
      face_at({590, 50, 80, 80}),     // 4: at the border, cropped with mirroring
  };
  auto ctx = fc::testing::context(fc::testing::invert_translator());
  Pipeline p;
  p.run(item, ctx);
  EXPECT_TRUE(item.faces[0].skipped.empty()) << item.faces[0].skipped;
  EXPECT_NE(item.faces[1].skipped.find("overlaps a bigger face"), std::string::npos);
  EXPECT_NE(item.faces[2].skipped.find("too small"), std::string::npos);
  EXPECT_NE(item.faces[3].skipped.find("outside the photo"), std::string::npos);
  EXPECT_TRUE(item.faces[4].skipped.empty()) << item.faces[4].skipped;
  EXPECT_EQ(item.report["faces_composited"], "2");
  EXPECT_EQ(item.report["faces_unedited"], "3");
  EXPECT_NE(item.report["skip_reasons"].find("face 2: overlaps"), std::string::npos);
  ASSERT_EQ(item.result.size(), photo.size());
  // The border face was pasted: its in-photo part changed.
  EXPECT_GT(cv::norm(item.result(cv::Rect(600, 60, 40, 60)), photo(cv::Rect(600, 60, 40, 60)),
                     cv::NORM_INF),
            50.0);
  // The skipped faces' areas are untouched.
  EXPECT_EQ(cv::norm(item.result(cv::Rect(400, 300, 16, 16)), photo(cv::Rect(400, 300, 16, 16)),
                     cv::NORM_INF),
            0.0);
}

TEST(Stages, DegenerateLandmarksFallBackToTheBoxAndOddSizedOutputsAreResized) {
  cv::Mat photo = fc::testing::smooth_photo({400, 300});
  fc::PhotoItem item;
  item.image = photo;
  item.faces = {face_at({150, 100, 80, 80}, std::vector<cv::Point2f>(5, {190, 140}))};
  // A translator that answers at half size: composite scales it back instead of failing.
  auto model = std::make_shared<fc::testing::FakeTranslator>([](const cv::Mat& m) {
    cv::Mat half;
    cv::resize(255 - m, half, {m.cols / 2, m.rows / 2});
    return half;
  });
  auto ctx = fc::testing::context(model);
  Pipeline p;
  p.run(item, ctx);
  EXPECT_TRUE(item.faces[0].skipped.empty()) << item.faces[0].skipped;
  EXPECT_EQ(item.report["faces_composited"], "1");
  EXPECT_GT(cv::norm(item.result, photo, cv::NORM_INF), 50.0);
}

TEST(Stages, WholeImageChipIsResizedInAndOut) {
  cv::Mat chip = fc::testing::smooth_photo({200, 200});
  fc::PhotoItem item;
  item.image = chip;
  item.whole_image = true;
  auto detect = load_stage("detect");
  auto model = fc::testing::invert_translator(128);
  auto ctx = fc::testing::context(model);
  detect->process(item, ctx);
  EXPECT_TRUE(item.faces.empty()) << "detect does nothing for whole-image items";
  Pipeline p;
  p.run(item, ctx);
  ASSERT_EQ(item.faces.size(), 1u);
  EXPECT_EQ(item.faces[0].crop.size(), cv::Size(200, 200)) << "the chip's own size";
  ASSERT_EQ(item.result.size(), chip.size());
  // Inverted everywhere, up to resampling.
  cv::Mat expect = 255 - chip, diff;
  cv::absdiff(item.result, expect, diff);
  EXPECT_LT(cv::mean(diff)[0], 3.0);
}

// Correlation of the fine detail (image minus its blur) of two images inside `roi`.
double detail_correlation(const cv::Mat& a, const cv::Mat& b, cv::Rect roi) {
  auto detail = [&](const cv::Mat& img) {
    cv::Mat g, blur, d;
    cv::cvtColor(img(roi), g, cv::COLOR_BGR2GRAY);
    g.convertTo(g, CV_32F);
    cv::GaussianBlur(g, blur, {0, 0}, 1.5);
    d = g - blur;
    return d - cv::mean(d)[0];
  };
  cv::Mat da = detail(a), db = detail(b);
  return da.dot(db) / std::sqrt(da.dot(da) * db.dot(db));
}

// A face larger than the model keeps its own detail: the translator adds the model's change at
// the crop's size (keep_detail). Crops made at the model's size (max_crop_size = 64, the old
// behaviour) come back as an upscaled 64 px face.
TEST(Stages, LargeFacesKeepTheirOwnDetail) {
  cv::Mat photo = fc::testing::smooth_photo({700, 520});
  auto lm = fc::testing::draw_face(photo, {350, 230}, 100, 4);
  cv::Mat grain(photo.size(), CV_8UC3);
  cv::RNG(3).fill(grain, cv::RNG::UNIFORM, 0, 40);
  photo = photo - cv::Scalar::all(20) + grain;  // fine texture everywhere, like skin and hair
  const cv::Rect core(300, 200, 100, 100);      // eyes, nose and mouth

  auto run = [&](const std::string& crop_config) {
    fc::PhotoItem item;
    item.image = photo.clone();
    item.task = "age";
    item.faces = {face_at({260, 150, 180, 220}, lm)};
    auto ctx = fc::testing::context(fc::testing::identity_translator(64));
    load_stage("crop", crop_config)->process(item, ctx);
    load_stage("generate-age")->process(item, ctx);
    load_stage("composite")->process(item, ctx);
    EXPECT_EQ(item.report["faces_composited"], "1");
    return item;
  };
  fc::PhotoItem own = run(""), model_size = run("max_crop_size = 64");
  EXPECT_NEAR(own.faces[0].crop.cols, 253, 3);
  EXPECT_EQ(model_size.faces[0].crop.cols, 64);
  EXPECT_GT(detail_correlation(own.result, photo, core), 0.8);
  EXPECT_LT(detail_correlation(model_size.result, photo, core), 0.5);
}

TEST(Stages, CropSizeIsBetweenTheModelsResolutionAndTheCap) {
  cv::Mat photo = fc::testing::smooth_photo({900, 700});
  auto big = fc::testing::draw_face(photo, {300, 300}, 160, 0);
  auto small = fc::testing::draw_face(photo, {750, 300}, 30, 0);
  fc::PhotoItem item;
  item.image = photo;
  item.faces = {face_at({170, 150, 260, 330}, big), face_at({725, 270, 50, 65}, small)};
  auto ctx = fc::testing::context(fc::testing::identity_translator(96));
  load_stage("crop", "max_crop_size = 300")->process(item, ctx);
  ASSERT_TRUE(item.faces[0].skipped.empty()) << item.faces[0].skipped;
  ASSERT_TRUE(item.faces[1].skipped.empty()) << item.faces[1].skipped;
  EXPECT_EQ(item.faces[0].crop.cols, 300) << "capped (its own size is about 404 px)";
  EXPECT_EQ(item.faces[1].crop.cols, 96) << "a face smaller than the model is upsampled";
}

TEST(Stages, GenerateWithoutAModelFailsClearly) {
  fc::PhotoItem item;
  item.image = fc::testing::smooth_photo({64, 64});
  item.whole_image = true;
  auto ctx = fc::testing::context(nullptr);
  load_stage("crop")->process(item, ctx);
  try {
    load_stage("generate-race")->process(item, ctx);
    FAIL() << "no error without a model";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("no model is loaded"), std::string::npos) << e.what();
  }
}

// One whole-image item through crop and generate-race, Black->White at `strength`.
void generate_race_in_reverse(const std::shared_ptr<fc::testing::FakeTranslator>& model,
                              double strength) {
  fc::PhotoItem item;
  item.image = fc::testing::smooth_photo({64, 64});
  item.whole_image = true;
  item.reverse = true;
  item.strength = strength;
  auto ctx = fc::testing::context(model);
  load_stage("crop")->process(item, ctx);
  load_stage("generate-race")->process(item, ctx);
}

TEST(Stages, GenerateRaceAsksForTheRaceTaskInReverseAtTheItemsStrength) {
  auto model = fc::testing::identity_translator();
  generate_race_in_reverse(model, 1.5);
  EXPECT_EQ(model->last_task, "race");
  EXPECT_EQ(model->last_strength, 1.5);
}

// A calibrated card (Condition::scale) is what --strength 1 means: the item's strength is
// applied on top of the direction's scale, and only that direction's.
TEST(Stages, GenerateAppliesTheItemsStrengthOnTopOfTheCardsScaleForThatDirection) {
  auto model = fc::testing::identity_translator();
  model->card().conditions.at(model->card().condition_id("race", true)).scale = 0.8;
  model->card().conditions.at(model->card().condition_id("race", false)).scale = 2.0;
  generate_race_in_reverse(model, 1.5);
  EXPECT_DOUBLE_EQ(model->last_strength, 1.5 * 0.8);
}

// Three faces of a photo, cropped (detect and crop are not under test here).
fc::PhotoItem three_faces() {
  fc::PhotoItem item;
  item.image = fc::testing::smooth_photo({96, 32});
  for (int i = 0; i < 3; ++i) {
    fc::Face f;
    f.box = cv::Rect2f(32.f * i, 0.f, 32.f, 32.f);
    f.crop = item.image(cv::Rect(32 * i, 0, 32, 32)).clone();
    item.faces.push_back(f);
  }
  return item;
}

// A face the model's gate reads as already the target (a Black face in a White->Black job) is
// left as it is and says why; the others are edited. --all-faces edits every face.
TEST(Stages, FacesTheGateReadsAsTheTargetAreLeftAloneUnlessAllFacesIsAsked) {
  auto model = fc::testing::invert_translator();
  model->gate = {0.10, 0.99, 0.97};
  fc::PhotoItem item = three_faces();
  auto ctx = fc::testing::context(model);
  load_stage("generate-race")->process(item, ctx);
  EXPECT_EQ(model->last_batch, 2) << "the face read as Black is not translated";
  EXPECT_FALSE(item.faces[0].generated.empty());
  EXPECT_TRUE(item.faces[1].generated.empty());
  EXPECT_FALSE(item.faces[2].generated.empty()) << "0.97 is under the gate's 0.98";
  EXPECT_EQ(item.faces[1].skipped,
            "already reads as Black (the model's gate: 0.99); --all-faces edits it too");
  EXPECT_TRUE(item.faces[0].skipped.empty());
  EXPECT_DOUBLE_EQ(item.faces[0].p_target, 0.10);
  EXPECT_DOUBLE_EQ(item.faces[2].p_target, 0.97);

  fc::PhotoItem all = three_faces();
  all.all_faces = true;
  const int reads = model->gate_reads;
  load_stage("generate-race")->process(all, ctx);
  EXPECT_EQ(model->last_batch, 3);
  EXPECT_EQ(model->gate_reads, reads) << "--all-faces does not ask the gate";
  for (const auto& f : all.faces) EXPECT_TRUE(f.skipped.empty() && !f.generated.empty());
}

// Reverse (Black->White) asks about White; a model without a gate edits every face; and a
// --whole-image item is the one face the user chose.
TEST(Stages, TheGateReadsTheDirectionsTargetAndIsSkippedWithoutAGateOrForWholeImages) {
  auto model = fc::testing::invert_translator();
  model->gate = {0.99, 0.2, 0.2};
  fc::PhotoItem item = three_faces();
  item.reverse = true;
  auto ctx = fc::testing::context(model);
  load_stage("generate-race")->process(item, ctx);
  EXPECT_EQ(item.faces[0].skipped.rfind("already reads as White", 0), 0u) << item.faces[0].skipped;

  model->gate.clear();
  fc::PhotoItem ungated = three_faces();
  load_stage("generate-race")->process(ungated, ctx);
  EXPECT_EQ(model->last_batch, 3);
  for (const auto& f : ungated.faces) EXPECT_LT(f.p_target, 0.0) << "never read";

  model->gate = {0.99};
  const int reads = model->gate_reads;
  generate_race_in_reverse(model, 1.0);
  EXPECT_EQ(model->gate_reads, reads);
  EXPECT_EQ(model->last_batch, 1);
}

TEST(Stages, DetectorSettingsAreCheckedWhenTheStageIsCreated) {
  auto message = [](const std::string& toml) { return start_error("detect", toml); };
  EXPECT_EQ(message(""), "accepted") << "the default, YuNet from models/, needs no setting";
  EXPECT_NE(message("yunet_model = '/nonexistent.onnx'").find("yunet_model"), std::string::npos);
  EXPECT_NE(message("detector = 'ssd'").find("ssd_model"), std::string::npos);
  EXPECT_EQ(message("detector = 'mtcnn'"),
            "plugins.detect.detector: must be one of: yunet, haar, ssd (got \"mtcnn\")");
  EXPECT_NE(message("detector = 'haar'\nhaar_cascade = '/nonexistent.xml'").find("opencv-data"),
            std::string::npos);
  EXPECT_EQ(message("min_face = 'big'"), "plugins.detect.min_face: must be a number (got \"big\")");
  EXPECT_EQ(message("detector = 'haar'\nmin_face = 0"),
            "plugins.detect.min_face: must be between 1 and 10000 (got 0)");
  // Another detector's settings may stay while one is tried; they are still type-checked.
  EXPECT_EQ(message("detector = 'yunet'\nssd_model = '/elsewhere.pb'"), "accepted");
  EXPECT_EQ(message("detector = 'haar'\nssd_model = 1"),
            "plugins.detect.ssd_model: must be a string (got 1)");
}

// A value of the wrong type is an error naming the plugin and the key, never a silent default:
// before plugin ABI 3 every value reached a stage as a string it parsed itself.
TEST(Stages, WrongTypesInAStagesTableNameThePluginAndTheKey) {
  EXPECT_EQ(start_error("detect", "score_threshold = \"high\""),
            "plugins.detect.score_threshold: must be a number (got \"high\")");
  EXPECT_EQ(start_error("crop", "crop_size = 200.5"),
            "plugins.crop.crop_size: must be an integer (got 200.5)");
  EXPECT_EQ(start_error("crop", "max_crop_size = \"300\""),
            "plugins.crop.max_crop_size: must be an integer (got \"300\")");
  EXPECT_EQ(start_error("composite", "feather = true"),
            "plugins.composite.feather: must be a number (got true)");
  EXPECT_EQ(start_error("composite", "mask = \"hair\""),
            "plugins.composite.mask: must be one of: head, ellipse (got \"hair\")");
  EXPECT_EQ(start_error("crop", "crop_size = 200\nmax_crop_size = 300"), "accepted");
}

// A key no stage reads is most likely a typo; it is refused with the keys the stage reads.
TEST(Stages, AnUnknownKeyIsRefusedListingTheKnownOnes) {
  EXPECT_EQ(start_error("crop", "max_crop = 300"),
            "plugins.crop.max_crop: unknown key (known: min_face, max_overlap_iou, min_inside, "
            "crop_size, max_crop_size)");
  EXPECT_EQ(start_error("generate-age", "model = 'x'"), "plugins.generate-age.model: unknown key");
  EXPECT_NE(start_error("detect", "min_faces = 30").find("plugins.detect.min_faces: unknown key"),
            std::string::npos);
}

}  // namespace
