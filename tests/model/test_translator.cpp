// The shared translator: dynamic batching must not change results, concurrent callers with mixed
// tasks get their own faces back, and an unknown task is refused.
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "facecycle/core/batch_observer.h"
#include "facecycle/core/change_shaping.h"
#include "facecycle/core/model_file.h"
#include "facecycle/core/photo_tone.h"
#include "facecycle/core/synthetic_faces.h"
#include "facecycle/core/translator.h"

namespace {
namespace fs = std::filesystem;

class Translator : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("fc_translator_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    fc::GeneratorOptions o;
    o.width = 8;
    o.blocks = 1;
    fc::write_seeded_model(model(), o, 32, 21, "translator-test");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string model() { return (dir_ / "m.pt").string(); }

  static std::shared_ptr<fc::FaceTranslator> load(
      int max_batch, int max_wait_ms, fc::PrecisionChoice precision = fc::PrecisionChoice::kFp32,
      bool keep_detail = true) {
    fc::TranslatorOptions o;
    o.keep_detail = keep_detail;
    o.device = fc::DeviceChoice::kCpu;
    o.precision = precision;
    o.threads = 1;
    o.max_batch = max_batch;
    o.max_wait_ms = max_wait_ms;
    return fc::load_translator(model(), o);
  }

  static std::vector<cv::Mat> random_faces(int n, int size, int seed) {
    cv::RNG rng(seed);
    std::vector<cv::Mat> out;
    for (int i = 0; i < n; ++i) {
      cv::Mat m(size, size, CV_8UC3);
      rng.fill(m, cv::RNG::UNIFORM, 0, 256);
      out.push_back(m);
    }
    return out;
  }

  // Batched and single runs differ only by float rounding: allow one grey level.
  static void expect_same(const cv::Mat& a, const cv::Mat& b, const std::string& what) {
    ASSERT_EQ(a.size(), b.size()) << what;
    ASSERT_EQ(a.type(), b.type()) << what;
    EXPECT_LE(cv::norm(a, b, cv::NORM_INF), 1.0) << what;
  }

  static fs::path dir_;
};
fs::path Translator::dir_;

TEST_F(Translator, ReturnsFacesAtTheirInputSize) {
  auto t = load(16, 1);
  EXPECT_EQ(t->device(), "cpu");
  EXPECT_EQ(t->card().name, "translator-test");
  for (int size : {32, 48, 20}) {
    auto out = t->translate(random_faces(2, size, size), "age", false);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].size(), cv::Size(size, size));
    EXPECT_EQ(out[0].type(), CV_8UC3);
  }
  EXPECT_TRUE(t->translate({}, "race", true).empty());
}

// Detail above the model's resolution: the part of an image a Gaussian blur removes.
cv::Mat fine_detail(const cv::Mat& bgr) {
  cv::Mat f, blur;
  bgr.convertTo(f, CV_32FC3);
  cv::GaussianBlur(f, blur, {0, 0}, 1.0);
  return f - blur;
}

double correlation(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat fa = a.reshape(1), fb = b.reshape(1);
  return fa.dot(fb) / std::sqrt(fa.dot(fa) * fb.dot(fb) + 1e-12);
}

TEST_F(Translator, KeepDetailAddsTheChangeAndKeepsTheFacesSharpness) {
  auto keep = load(16, 1), plain = load(16, 1, fc::PrecisionChoice::kFp32, false);
  const cv::Mat face = fc::render_face(fc::random_identity(5), {0.8f, 0.3f}, 128);
  const cv::Mat k = keep->translate({face}, "age", false)[0];
  const cv::Mat p = plain->translate({face}, "age", false)[0];
  ASSERT_EQ(k.size(), face.size());
  // The model's change is there: at the model's 32 px both agree.
  cv::Mat k32, p32;
  cv::resize(k, k32, {32, 32}, 0, 0, cv::INTER_AREA);
  cv::resize(p, p32, {32, 32}, 0, 0, cv::INTER_AREA);
  cv::Mat f32;
  cv::resize(face, f32, {32, 32}, 0, 0, cv::INTER_AREA);
  EXPECT_LT(cv::norm(k32, p32, cv::NORM_L1) / k32.total() / 3, 3.0);
  EXPECT_GT(cv::norm(p32, f32, cv::NORM_L1) / p32.total() / 3, 5.0) << "the seeded model edits";
  // Fine detail comes from the face with keep_detail, and is lost by resizing the output.
  const cv::Mat d = fine_detail(face);
  EXPECT_GT(correlation(fine_detail(k), d), 0.9);
  EXPECT_LT(correlation(fine_detail(p), d), 0.6);
  // At the model's own size the two modes agree.
  const cv::Mat small = fc::render_face(fc::random_identity(6), {0.2f, 0.1f}, 32);
  expect_same(keep->translate({small}, "race", false)[0],
              plain->translate({small}, "race", false)[0], "32 px face");
}

// --strength scales the change: 0 hands the face back, 2 moves each pixel twice as far as 1
// (up to the 8-bit rounding of each, and where nothing saturates), for both output modes.
TEST_F(Translator, StrengthScalesTheChange) {
  for (bool keep_detail : {true, false}) {
    auto t = load(16, 1, fc::PrecisionChoice::kFp32, keep_detail);
    const cv::Mat face = fc::render_face(fc::random_identity(8), {0.5f, 0.5f}, 32);
    const cv::Mat none = t->translate({face}, "age", false, 0.0)[0];
    const cv::Mat one = t->translate({face}, "age", false)[0];
    const cv::Mat two = t->translate({face}, "age", false, 2.0)[0];
    EXPECT_LE(cv::norm(none, face, cv::NORM_INF), keep_detail ? 0.0 : 1.0) << keep_detail;
    cv::Mat f, c1, c2;
    face.convertTo(f, CV_32F);
    one.convertTo(c1, CV_32F);
    two.convertTo(c2, CV_32F);
    c1 -= f;
    c2 -= f;
    // Pixels whose doubled change stays inside 0..255.
    cv::Mat doubled = f + 2 * c1, inside;
    cv::inRange(doubled.reshape(1), 2.0, 253.0, inside);
    ASSERT_GT(cv::countNonZero(inside), int(inside.total() / 2));
    cv::Mat err = cv::abs(c2 - 2 * c1);
    err = err.reshape(1);
    double worst = 0;
    cv::minMaxLoc(err, nullptr, &worst, nullptr, nullptr, inside);
    EXPECT_LE(worst, 1.5) << "keep_detail " << keep_detail;
    EXPECT_GT(cv::norm(c1, cv::NORM_L1) / c1.total(), 2.0) << "the seeded model edits";
  }
}

// The card's change blur: a two-pixel stripe in the change goes, a shade stays, the scale still
// applies, and with neither the generator's output is handed back as it is.
TEST_F(Translator, ShapeChangeBlursOnlyTheChange) {
  const auto x = torch::rand({3, 16, 16}) * 2 - 1;
  const auto rows = torch::arange(16).remainder(2).mul(2).sub(1).to(torch::kFloat);  // +-1
  const auto stripes = rows.view({1, 16, 1}).expand({3, 16, 16}) * 0.2;
  const auto shade = torch::full({3, 16, 16}, 0.3);
  EXPECT_TRUE(fc::shape_change(x, x + stripes, 1.0, 0).equal(x + stripes));
  const auto unstriped = fc::shape_change(x, x + stripes + shade, 1.0, 1) - x;
  // Inside the border, [1 2 1]/4 cancels an alternating row exactly; the shade is untouched.
  EXPECT_LT((unstriped.slice(1, 1, 15) - shade.slice(1, 1, 15)).abs().max().item<float>(), 1e-5);
  const auto halved = fc::shape_change(x, x + shade, 0.5, 2) - x;
  EXPECT_LT((halved - shade * 0.5).abs().max().item<float>(), 1e-5);
  const auto batch = torch::stack({x, x});
  EXPECT_EQ(fc::shape_change(batch, batch + shade, 1.0, 1).sizes(), batch.sizes());
  EXPECT_THROW(fc::shape_change(x, batch, 1.0, 1), std::invalid_argument);
}

// A card with change_blur on one direction: that direction's change (at the model's own size)
// is the raw one blurred, and the other directions come out exactly as before.
TEST_F(Translator, TheCardsChangeBlurAppliesToItsDirectionOnly) {
  fc::LoadedModel m = fc::load_model(model(), torch::kCPU);
  m.card.conditions.at(m.card.condition_id("race", false)).change_blur = 1;
  const std::string blurred_path = (dir_ / "blurred.pt").string();
  fc::save_model(blurred_path, m.generator, m.card);
  fc::TranslatorOptions o;
  o.device = fc::DeviceChoice::kCpu;
  o.precision = fc::PrecisionChoice::kFp32;
  o.keep_detail = true;
  o.threads = 1;
  auto raw = load(16, 1);
  auto blurred = fc::load_translator(blurred_path, o);
  const cv::Mat face = fc::render_face(fc::random_identity(11), {0.4f, 0.6f}, 32);
  expect_same(raw->translate({face}, "age", false)[0], blurred->translate({face}, "age", false)[0],
              "an unblurred direction");
  cv::Mat f, c_raw, c_blur;
  face.convertTo(f, CV_32F);
  raw->translate({face}, "race", false)[0].convertTo(c_raw, CV_32F);
  blurred->translate({face}, "race", false)[0].convertTo(c_blur, CV_32F);
  c_raw -= f;
  c_blur -= f;
  cv::Mat expected;
  const cv::Mat k = (cv::Mat_<float>(3, 1) << 0.25f, 0.5f, 0.25f);
  cv::sepFilter2D(c_raw, expected, CV_32F, k, k, {-1, -1}, 0, cv::BORDER_REPLICATE);
  // Compared where neither output saturated, in the pixel or beside it (the blur reaches one).
  cv::Mat raw_out = f + c_raw, blurred_out = f + expected, inside, inside_blurred;
  cv::inRange(raw_out, cv::Scalar::all(2), cv::Scalar::all(253), inside);
  cv::inRange(blurred_out, cv::Scalar::all(2), cv::Scalar::all(253), inside_blurred);
  inside &= inside_blurred;
  cv::erode(inside, inside, cv::Mat());
  ASSERT_GT(cv::countNonZero(inside), int(inside.total() / 2));
  std::vector<cv::Mat> err;
  cv::split(cv::abs(c_blur - expected), err);
  double worst = 0;
  for (const cv::Mat& e : err) {
    double w = 0;
    cv::minMaxLoc(e, nullptr, &w, nullptr, nullptr, inside);
    worst = std::max(worst, w);
  }
  EXPECT_LE(worst, 1.5);
  EXPECT_GT(cv::norm(c_raw, c_blur, cv::NORM_L1) / c_raw.total(), 0.5) << "the blur did something";
}

TEST_F(Translator, StrengthOutsideItsRangeIsRefused) {
  auto t = load(16, 1);
  const auto faces = random_faces(1, 32, 9);
  for (double s : {-0.5, 3.5, std::nan("")})
    EXPECT_THROW(t->translate(faces, "age", false, s), std::invalid_argument) << s;
  EXPECT_NO_THROW(t->translate(faces, "age", false, fc::kMaxEditStrength));
}

// A black-and-white or sepia photo keeps its tone: the generator, trained on colour faces,
// would paint pink and green into it. A colour face keeps its colour edit.
TEST_F(Translator, GreyAndSepiaFacesKeepTheirToneAndAColourOneItsColour) {
  auto t = load(16, 1);
  const cv::Mat colour = fc::render_face(fc::random_identity(7), {0.8f, 0.3f}, 64);
  cv::Mat grey;
  cv::cvtColor(colour, grey, cv::COLOR_BGR2GRAY);
  cv::Mat y;
  grey.convertTo(y, CV_32F);
  cv::Mat sepia;
  cv::merge(std::vector<cv::Mat>{0.8 * y + 8, 0.93 * y + 5, cv::min(1.1 * y + 10, 255.0)}, sepia);
  sepia.convertTo(sepia, CV_8UC3);
  cv::cvtColor(grey, grey, cv::COLOR_GRAY2BGR);
  auto chroma = [](const cv::Mat& bgr) {
    std::vector<cv::Mat> c;
    cv::split(bgr, c);
    return cv::norm(c[0], c[1], cv::NORM_INF) + cv::norm(c[1], c[2], cv::NORM_INF);
  };
  const auto out = t->translate({grey, colour, sepia}, "age", false);
  EXPECT_EQ(chroma(out[0]), 0.0);
  EXPECT_GT(cv::norm(out[0], grey, cv::NORM_L1) / grey.total(), 1.0) << "the edit is still there";
  EXPECT_GT(chroma(out[1]), 20.0);
  const auto tone = fc::monochrome_tone(sepia);
  ASSERT_TRUE(tone);
  EXPECT_LE(cv::norm(fc::in_tone(out[2], *tone), out[2], cv::NORM_INF), 2.0) << "still sepia";
  EXPECT_GT(cv::norm(out[2], sepia, cv::NORM_L1) / sepia.total(), 1.0) << "the edit is there";
}

TEST_F(Translator, BatchedEqualsOneAtATime) {
  auto faces = random_faces(6, 32, 1);
  auto single = load(1, 0);
  auto batched = load(16, 50);
  auto together = batched->translate(faces, "race", false);
  EXPECT_GE(batched->stats().largest_batch, 6);
  for (size_t i = 0; i < faces.size(); ++i)
    expect_same(together[i], single->translate({faces[i]}, "race", false)[0],
                "face " + std::to_string(i));
  EXPECT_EQ(single->stats().largest_batch, 1);
}

TEST_F(Translator, ConcurrentCallersWithMixedTasksGetTheirOwnResults) {
  struct Job {
    std::string task;
    bool reverse;
    std::vector<cv::Mat> faces;
  };
  std::vector<Job> jobs = {{"age", false, random_faces(2, 32, 10)},
                           {"age", true, random_faces(1, 32, 11)},
                           {"race", false, random_faces(3, 32, 12)},
                           {"race", true, random_faces(2, 32, 13)}};
  auto single = load(1, 0);
  std::vector<std::vector<cv::Mat>> expected;
  for (auto& j : jobs) {
    std::vector<cv::Mat> e;
    for (auto& f : j.faces) e.push_back(single->translate({f}, j.task, j.reverse)[0]);
    expected.push_back(e);
  }

  // 8 faces in all and max_batch 8 with a long wait: the batcher runs them as one mixed batch.
  auto shared = load(8, 5000);
  std::vector<std::vector<cv::Mat>> got(jobs.size());
  std::vector<std::thread> threads;
  for (size_t k = 0; k < jobs.size(); ++k)
    threads.emplace_back(
        [&, k] { got[k] = shared->translate(jobs[k].faces, jobs[k].task, jobs[k].reverse); });
  for (auto& th : threads) th.join();
  EXPECT_EQ(shared->stats().faces, 8);
  EXPECT_EQ(shared->stats().batches, 1) << "the four callers should share one batch";
  for (size_t k = 0; k < jobs.size(); ++k)
    for (size_t i = 0; i < jobs[k].faces.size(); ++i)
      expect_same(got[k][i], expected[k][i], jobs[k].task + " job " + std::to_string(k));
  // Different tasks really give different faces (so a mix-up would be caught above).
  EXPECT_GT(cv::norm(single->translate({jobs[0].faces[0]}, "age", false)[0],
                     single->translate({jobs[0].faces[0]}, "race", false)[0], cv::NORM_L1),
            0.0);
}

TEST_F(Translator, ManyThreadsRepeatedly) {
  auto shared = load(4, 2);
  auto faces = random_faces(4, 32, 99);
  auto single = load(1, 0);
  const std::vector<std::pair<std::string, bool>> tasks = {
      {"age", false}, {"age", true}, {"race", false}, {"race", true}};
  std::vector<cv::Mat> expected;
  for (int k = 0; k < 4; ++k)
    expected.push_back(single->translate({faces[k]}, tasks[k].first, tasks[k].second)[0]);
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 10; ++rep) {
        auto out = shared->translate({faces[k]}, tasks[k].first, tasks[k].second)[0];
        if (cv::norm(out, expected[k], cv::NORM_INF) > 1.0) ++bad[k];
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad, std::vector<int>(4, 0));
  EXPECT_EQ(shared->stats().faces, 40);
}

TEST_F(Translator, Bf16IsWithinAFewLevelsOfFp32) {
  auto faces = random_faces(4, 32, 3);
  auto fp32 = load(16, 5, fc::PrecisionChoice::kFp32);
  auto bf16 = load(16, 5, fc::PrecisionChoice::kBf16);
  EXPECT_EQ(fp32->precision(), "fp32");
  EXPECT_EQ(bf16->precision(), "bf16");
  auto a = fp32->translate(faces, "age", true);
  auto b = bf16->translate(faces, "age", true);
  for (size_t i = 0; i < faces.size(); ++i) {
    EXPECT_LE(cv::norm(a[i], b[i], cv::NORM_L1) / a[i].total() / 3, 1.0) << "face " << i;
    EXPECT_LE(cv::norm(a[i], b[i], cv::NORM_INF), 16.0) << "face " << i;
  }
  // auto picks bf16 exactly when the CPU has native bf16.
  EXPECT_EQ(load(16, 5, fc::PrecisionChoice::kAuto)->precision(),
            fc::cpu_has_native_bf16() ? "bf16" : "fp32");
}

TEST_F(Translator, UnknownTaskListsTheKnownOnes) {
  auto t = load(4, 1);
  try {
    t->translate(random_faces(1, 32, 1), "gender", false);
    FAIL() << "unknown task accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("age, race"), std::string::npos) << e.what();
  }
}

// Without a GPU: "auto" runs on the CPU, and "cuda" is refused with what to set instead (the
// daemon then runs without a model and says why), never a crash inside LibTorch.
TEST_F(Translator, CudaWithoutAGpuIsExplainedAndAutoFallsBackToTheCpu) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "this machine has a CUDA GPU";
  fc::TranslatorOptions o;
  o.threads = 1;
  o.device = fc::DeviceChoice::kAuto;
  o.precision = fc::PrecisionChoice::kAuto;
  auto t = fc::load_translator(model(), o);
  EXPECT_EQ(t->device(), "cpu");
  EXPECT_EQ(t->precision(), fc::cpu_has_native_bf16() ? "bf16" : "fp32");
  EXPECT_EQ(t->translate(random_faces(2, 32, 4), "age", false).size(), 2u);
  o.device = fc::DeviceChoice::kCuda;
  try {
    fc::load_translator(model(), o);
    FAIL() << "device cuda without a GPU was accepted";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("device 'cuda' requested"), std::string::npos) << m;
    EXPECT_NE(m.find("use device = \"cpu\" or \"auto\""), std::string::npos) << m;
  }
}

TEST_F(Translator, MissingModelIsExplained) {
  fc::TranslatorOptions o;
  o.device = fc::DeviceChoice::kCpu;
  try {
    fc::load_translator((dir_ / "nope.pt").string(), o);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not found"), std::string::npos) << e.what();
  }
}

}  // namespace

namespace {

// The daemon's metrics hook (batch_observer.h): told about every generator call, with each
// face's wait in the queue.
TEST_F(Translator, BatchObserverSeesEveryBatchAndEachFacesWait) {
  std::mutex mu;
  std::vector<fc::BatchObservation> seen;
  fc::TranslatorOptions o;
  o.device = fc::DeviceChoice::kCpu;
  o.precision = fc::PrecisionChoice::kFp32;
  o.threads = 1;
  o.max_batch = 4;
  o.max_wait_ms = 50;
  auto t = fc::load_translator(model(), o, [&](const fc::BatchObservation& b) {
    std::lock_guard<std::mutex> lk(mu);
    seen.push_back(b);
  });
  t->translate(random_faces(6, 32, 5), "age", false);
  t.reset();  // joins the batcher: every observation is in
  int faces = 0;
  for (const auto& b : seen) {
    EXPECT_GE(b.size, 1);
    EXPECT_LE(b.size, 4);
    ASSERT_EQ(b.queue_wait_s.size(), static_cast<size_t>(b.size));
    for (double w : b.queue_wait_s) {
      EXPECT_GE(w, 0.0);
      EXPECT_LT(w, 10.0);
    }
    faces += b.size;
  }
  EXPECT_EQ(faces, 6);
  EXPECT_GE(seen.size(), 2u) << "6 faces at max_batch 4 take two calls at least";
}

}  // namespace
