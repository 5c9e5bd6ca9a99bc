// The batch loader: right shape and range, batches independent of thread timing, exact resume.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "data/batch_loader.h"
#include "facecycle/core/image_io.h"

namespace fs = std::filesystem;
using fc::train::BatchLoader;
using fc::train::LoaderOptions;

namespace {

// N solid-colour PNGs; image i has blue = 10 * i so a pixel tells which file it came from.
class LoaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("fc_loader_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (int i = 0; i < kFiles; ++i) {
      cv::Mat img(80, 100, CV_8UC3, cv::Scalar(10 * i, 200, 40));  // BGR, not square
      const std::string p = (dir_ / (std::to_string(i) + ".png")).string();
      cv::imwrite(p, img);
      paths_.push_back(p);
    }
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static constexpr int kFiles = 24;
  static inline fs::path dir_;
  static inline std::vector<std::string> paths_;
};

bool same(const torch::Tensor& a, const torch::Tensor& b) { return torch::equal(a, b); }

}  // namespace

TEST_F(LoaderTest, ShapeRangeAndRgbOrder) {
  LoaderOptions o;
  o.size = 32;
  o.batch = 4;
  o.augment = false;
  BatchLoader loader(paths_, o);
  const torch::Tensor b = loader.next();
  ASSERT_EQ(b.sizes(), (std::vector<int64_t>{4, 3, 32, 32}));
  EXPECT_EQ(b.dtype(), torch::kFloat32);
  EXPECT_GE(b.min().item<float>(), -1.0f);
  EXPECT_LE(b.max().item<float>(), 1.0f);
  // Red channel first: every file has red 40, green 200.
  EXPECT_NEAR(b.select(1, 0).mean().item<float>(), 40 / 127.5f - 1, 1e-4);
  EXPECT_NEAR(b.select(1, 1).mean().item<float>(), 200 / 127.5f - 1, 1e-4);
  EXPECT_EQ(loader.position(), 1);
}

TEST_F(LoaderTest, EachEpochVisitsEveryFileOnce) {
  LoaderOptions o;
  o.size = 8;
  o.batch = 6;
  o.augment = false;
  BatchLoader loader(paths_, o);
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::multiset<int> seen;
    for (int k = 0; k < kFiles / o.batch; ++k) {
      const torch::Tensor blue = loader.next().select(1, 2);  // [B,8,8]
      for (int j = 0; j < o.batch; ++j)
        seen.insert(static_cast<int>(std::lround((blue[j][4][4].item<float>() + 1) * 127.5f / 10)));
    }
    std::multiset<int> all;
    for (int i = 0; i < kFiles; ++i) all.insert(i);
    EXPECT_EQ(seen, all) << "epoch " << epoch;
  }
}

TEST_F(LoaderTest, BatchesDoNotDependOnThreadsAndSeekResumesExactly) {
  LoaderOptions o;
  o.size = 16;
  o.batch = 5;  // not a divisor of 24: batches straddle epochs
  o.seed = 9;
  o.scale_jitter = 0.2f;
  o.translate_jitter = 0.2f;
  o.workers = 0;
  BatchLoader serial(paths_, o);
  std::vector<torch::Tensor> expected;
  for (int k = 0; k < 8; ++k) expected.push_back(serial.next());

  o.workers = 3;
  o.prefetch = 2;
  BatchLoader threaded(paths_, o);
  for (int k = 0; k < 8; ++k) EXPECT_TRUE(same(threaded.next(), expected[k])) << "batch " << k;

  BatchLoader resumed(paths_, o);
  resumed.next();
  resumed.seek(5);
  EXPECT_EQ(resumed.position(), 5);
  for (int k = 5; k < 8; ++k) EXPECT_TRUE(same(resumed.next(), expected[k])) << "batch " << k;
  resumed.seek(1);
  EXPECT_TRUE(same(resumed.next(), expected[1]));

  o.seed = 10;
  BatchLoader other(paths_, o);
  EXPECT_FALSE(same(other.next(), expected[0]));
}

TEST_F(LoaderTest, AugmentationFlipsAndShiftsAFace) {
  // A face is not symmetric about its border: augmented batches differ from plain ones.
  const fs::path face = dir_ / "face.png";
  cv::Mat img(64, 64, CV_8UC3, cv::Scalar(0, 0, 0));
  cv::rectangle(img, cv::Rect(4, 10, 20, 30), cv::Scalar(255, 255, 255), -1);
  cv::imwrite(face.string(), img);
  LoaderOptions o;
  o.size = 32;
  o.batch = 16;
  o.augment = false;
  const torch::Tensor plain = BatchLoader({face.string()}, o).next();
  o.augment = true;
  const torch::Tensor aug = BatchLoader({face.string()}, o).next();
  int flipped = 0;
  for (int j = 0; j < 16; ++j) {
    // The bright block sits on the left; flipped copies have it on the right.
    const float left = aug[j].slice(2, 0, 16).mean().item<float>();
    const float right = aug[j].slice(2, 16, 32).mean().item<float>();
    flipped += right > left;
    EXPECT_FALSE(same(aug[j], plain[j])) << j;
  }
  EXPECT_GT(flipped, 2);
  EXPECT_LT(flipped, 14);
}

TEST_F(LoaderTest, UnreadableFileIsReportedByName) {
  const fs::path bad = dir_ / "broken.jpg";
  std::ofstream(bad) << "not a jpeg";
  LoaderOptions o;
  o.size = 8;
  o.batch = 2;
  BatchLoader loader({bad.string()}, o);
  try {
    loader.next();
    FAIL() << "expected fc::ImageError";
  } catch (const fc::ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("broken.jpg"), std::string::npos) << e.what();
  }
}

TEST_F(LoaderTest, DestructorStopsWorkersWithAFullQueue) {
  LoaderOptions o;
  o.size = 8;
  o.workers = 4;
  o.prefetch = 2;
  for (int i = 0; i < 5; ++i) {
    BatchLoader loader(paths_, o);
    if (i % 2) loader.next();
  }  // returning at all is the test: no hang, no crash
  EXPECT_THROW(BatchLoader({}, o), std::invalid_argument);
}
