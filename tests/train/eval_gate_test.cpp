// The domain gate's training: from a config's tasks and split it learns which faces already are
// each direction's target, and says on held-out faces how often its threshold would be wrong.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "eval/gate_training.h"
#include "facecycle/core/synthetic_faces.h"
#include "synthetic_tasks.h"

namespace {
namespace fs = std::filesystem;
using nlohmann::json;

TEST(GateTraining, LearnsTheRaceTasksDomainsFromSyntheticFacesAndReportsItsThreshold) {
  const fs::path dir = fs::temp_directory_path() / ("fc_gate_train_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fc::write_synthetic_utkface(dir.string(), 240, 11, 48);
  const auto cfg =
      fc::train::parse_train_config("seed = 3\n" + fcd_test::synthetic_two_tasks(240, 11, "0.25") +
                                    "[[stages]]\nsize = 32\nsteps = 1\nbatch = 1\n");
  fc::train::GateTrainOptions o;
  o.size = 32;
  o.width = 4;
  o.steps = 120;
  o.batch = 16;
  o.lr = 3e-3;
  o.threads = 1;
  o.skip_at = 0.9;
  o.tasks = {"race"};
  auto gate = fc::train::train_gate(cfg, dir.string(), o);
  fs::remove_all(dir);

  ASSERT_EQ(gate->spec().tasks.size(), 1u) << "only the asked task";
  EXPECT_EQ(gate->spec().tasks[0].task, "race");
  EXPECT_EQ(gate->spec().skip_at, 0.9);
  const json h = json::parse(gate->spec().heldout_json).at("race");
  std::cout << h.dump() << "\n";
  EXPECT_GT(h.at("accuracy").get<double>(), 0.9);
  EXPECT_LT(h.at("forward").at("source_skipped").get<double>(), 0.1);
  EXPECT_GT(h.at("forward").at("target_skipped").get<double>(), 0.5);
  EXPECT_TRUE(h.at("thresholds").contains("0.98"));
  // Faces it never saw: dark ones read as Black forward, light ones as White in reverse.
  const auto faces = [](float race) {
    std::vector<torch::Tensor> v;
    for (int i = 0; i < 8; ++i) {
      const cv::Mat bgr = fc::render_face(fc::random_identity(900 + i), {0.5f, race}, 32);
      cv::Mat rgb;
      cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
      v.push_back(torch::from_blob(rgb.data, {32, 32, 3}, torch::kUInt8)
                      .permute({2, 0, 1})
                      .to(torch::kFloat32)
                      .div(127.5)
                      .sub(1.0));
    }
    return torch::stack(v);
  };
  EXPECT_GT(fc::target_probability(gate, faces(0.95f), 0, false).mean().item<float>(), 0.8f);
  EXPECT_GT(fc::target_probability(gate, faces(0.05f), 0, true).mean().item<float>(), 0.8f);
}

TEST(GateTraining, ATaskTheConfigDoesNotHaveIsRefused) {
  const auto cfg = fc::train::parse_train_config("seed = 3\n" + fcd_test::synthetic_two_tasks() +
                                                 "[[stages]]\nsize = 32\nsteps = 1\n");
  fc::train::GateTrainOptions o;
  o.tasks = {"hair"};
  try {
    fc::train::train_gate(cfg, "/nonexistent", o);
    FAIL() << "trained a gate for a task the config does not have";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "gate task 'hair' is not a task of the config (age, race)");
  }
}

}  // namespace
