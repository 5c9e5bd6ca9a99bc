// Synthetic faces: deterministic, framed consistently, and the meters follow the attributes.
#include "facecycle/core/synthetic_faces.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "data/utkface.h"

namespace fs = std::filesystem;

namespace {

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("fc_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(p);
  return p;
}

}  // namespace

TEST(SyntheticFaces, RenderIsDeterministic) {
  const fc::SyntheticAttributes attr{0.7f, 0.3f};
  const cv::Mat a = fc::render_face(fc::random_identity(42), attr, 96);
  const cv::Mat b = fc::render_face(fc::random_identity(42), attr, 96);
  EXPECT_EQ(a.type(), CV_8UC3);
  EXPECT_EQ(a.size(), cv::Size(96, 96));
  EXPECT_TRUE(same(a, b));
  EXPECT_FALSE(same(a, fc::render_face(fc::random_identity(43), attr, 96)));
  // The default size matches UTKFace chips.
  EXPECT_EQ(fc::render_face(fc::random_identity(1), {}).size(), cv::Size(200, 200));
}

TEST(SyntheticFaces, RefusesBadInputs) {
  EXPECT_THROW(fc::render_face(fc::random_identity(1), {}, 8), std::invalid_argument);
  EXPECT_THROW(fc::measure_skin_tone(cv::Mat()), std::invalid_argument);
  EXPECT_THROW(fc::measure_age_cues(cv::Mat(32, 32, CV_8UC1, cv::Scalar(0))),
               std::invalid_argument);
}

TEST(SyntheticFaces, SkinMeterRisesWithSkinAndIgnoresAge) {
  for (uint64_t seed = 0; seed < 6; ++seed) {
    const auto id = fc::random_identity(seed);
    for (int size : {200, 64}) {
      float prev = -1;
      for (float skin : {0.f, 0.25f, 0.5f, 0.75f, 1.f}) {
        const float m = fc::measure_skin_tone(fc::render_face(id, {0.f, skin}, size));
        EXPECT_GT(m, prev + 0.05f) << "seed " << seed << " size " << size << " skin " << skin;
        prev = m;
        const float aged = fc::measure_skin_tone(fc::render_face(id, {1.f, skin}, size));
        EXPECT_NEAR(aged, m, 0.05f) << "age moved the skin meter, seed " << seed;
      }
    }
  }
}

TEST(SyntheticFaces, AgeMeterRisesWithAge) {
  for (uint64_t seed = 0; seed < 6; ++seed) {
    const auto id = fc::random_identity(seed);
    for (float skin : {0.f, 1.f})
      for (int size : {200, 64}) {
        float prev = -1;
        for (float age : {0.f, 0.25f, 0.5f, 0.75f, 1.f}) {
          const float m = fc::measure_age_cues(fc::render_face(id, {age, skin}, size));
          EXPECT_GT(m, prev) << "seed " << seed << " skin " << skin << " size " << size << " age "
                             << age;
          prev = m;
        }
      }
  }
}

TEST(SyntheticFaces, AgeGroupsSeparateAcrossIdentities) {
  // Every old face scores above every young face, whatever the identity: the cue is strong.
  float max_young = 0, min_old = 1e9;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const auto id = fc::random_identity(seed);
    for (float skin : {0.f, 1.f}) {
      max_young = std::max(max_young, fc::measure_age_cues(fc::render_face(id, {0.1f, skin}, 64)));
      min_old = std::min(min_old, fc::measure_age_cues(fc::render_face(id, {0.85f, skin}, 64)));
    }
  }
  EXPECT_LT(max_young, min_old);
}

TEST(SyntheticFaces, WritesUtkfaceNamesWhoseLabelsMatchTheImages) {
  const fs::path dir = temp_dir("synthetic_names");
  fc::write_synthetic_utkface(dir.string(), 24, 7, 64);
  const auto scan = fc::train::scan_utkface(dir.string());
  ASSERT_EQ(scan.records.size(), 24u);
  EXPECT_EQ(scan.malformed, 3u);
  int young = 0, dark = 0;
  for (const auto& r : scan.records) {
    EXPECT_TRUE((r.age >= 20 && r.age <= 29) || (r.age >= 50 && r.age <= 59)) << r.path;
    EXPECT_TRUE(r.race == 0 || r.race == 1) << r.path;
    const cv::Mat img = cv::imread(r.path);
    ASSERT_FALSE(img.empty()) << r.path;
    // The labels in the name describe the pixels.
    EXPECT_EQ(fc::measure_skin_tone(img) > 0.45f, r.race == 1) << r.path;
    young += r.age < 40;
    dark += r.race == 1;
  }
  EXPECT_GT(young, 3);
  EXPECT_LT(young, 21);
  EXPECT_GT(dark, 3);
  EXPECT_LT(dark, 21);
  // Same seed, same files.
  const fs::path again = temp_dir("synthetic_names_again");
  fc::write_synthetic_utkface(again.string(), 24, 7, 64);
  const auto scan2 = fc::train::scan_utkface(again.string());
  ASSERT_EQ(scan2.records.size(), scan.records.size());
  for (size_t i = 0; i < scan.records.size(); ++i)
    EXPECT_EQ(fs::path(scan.records[i].path).filename(),
              fs::path(scan2.records[i].path).filename());
  fs::remove_all(dir);
  fs::remove_all(again);
}
