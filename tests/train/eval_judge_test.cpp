// The attribute judge learns age cues and skin tone from synthetic faces, and the evaluation
// reports whether a translation moved them.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "data/domains.h"
#include "eval/attribute_judge.h"
#include "eval/translation_eval.h"
#include "facecycle/core/synthetic_faces.h"
#include "image_tensors.h"

namespace fs = std::filesystem;
using namespace fc::train;
using fc::train::testing::to_tensor;

namespace {

// Paired renders: identity i young/old, light/dark.
torch::Tensor render(int n, float age, float skin, uint64_t seed0 = 1000) {
  std::vector<cv::Mat> v;
  for (int i = 0; i < n; ++i)
    v.push_back(fc::render_face(fc::random_identity(seed0 + i), {age, skin}, 32));
  return to_tensor(v);
}

TaskHeldout task(const std::string& name, const std::string& a_name, const std::string& b_name,
                 int forward_cond, int reverse_cond) {
  TaskHeldout t;
  t.task = t.attribute = name;
  t.a_name = a_name;
  t.b_name = b_name;
  t.forward_cond = forward_cond;
  t.reverse_cond = reverse_cond;
  return t;
}

class JudgeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("fc_judge_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fc::write_synthetic_utkface(dir_.string(), 240, 11, 48);
    const auto split = split_heldout(scan_utkface(dir_.string()).records, 0.25, 1);
    JudgeOptions o;
    o.size = 32;
    o.width = 8;
    o.steps = 80;
    o.batch = 32;
    o.lr = 3e-3;
    o.threads = 1;
    judge_ = new AttributeJudge(train_judge(
        split.train, split.heldout, o, [](std::string name, double, long) { ++metrics_seen_; }));
  }
  static void TearDownTestSuite() {
    delete judge_;
    fs::remove_all(dir_);
  }
  static inline fs::path dir_;
  static inline AttributeJudge* judge_ = nullptr;
  static inline int metrics_seen_ = 0;
};

}  // namespace

TEST_F(JudgeTest, LearnsAgeAndRaceFromSyntheticFaces) {
  const auto& m = judge_->metrics;
  std::cout << "judge metrics: " << m.dump() << "\n";
  // Chance: predicting 40 for ages 20-29 / 50-59 gives MAE ~15; races 0/1 are balanced.
  EXPECT_LT(m.at("heldout_age_mae").get<double>(), 9.0);
  EXPECT_GT(m.at("heldout_race_accuracy").get<double>(), 0.9);
  EXPECT_GT(m.at("heldout_white_black_accuracy").get<double>(), 0.9);
  EXPECT_GT(metrics_seen_, 4);
  // Paired renders of identities it has never seen.
  const torch::Tensor young = render(16, 0.05f, 0.f), old = render(16, 0.95f, 0.f);
  const torch::Tensor dark = render(16, 0.05f, 0.95f);
  EXPECT_GT((judge_->age(old) - judge_->age(young)).mean().item<float>(), 15.f);
  EXPECT_GT(judge_->race_prob(dark, 1).mean().item<float>(), 0.8f);
  EXPECT_LT(judge_->race_prob(young, 1).mean().item<float>(), 0.2f);
  // Other input sizes are resized to the judge's own.
  const torch::Tensor big =
      torch::nn::functional::interpolate(old, torch::nn::functional::InterpolateFuncOptions()
                                                  .size(std::vector<int64_t>{64, 64})
                                                  .mode(torch::kBilinear)
                                                  .align_corners(false));
  EXPECT_GT(judge_->age(big).mean().item<float>(), judge_->age(young).mean().item<float>() + 15.f);
  EXPECT_THROW(judge_->race_prob(young, 7), std::invalid_argument);
}

TEST_F(JudgeTest, SaveAndLoadGiveTheSameJudgements) {
  const fs::path path = dir_ / "judge.pt";
  save_judge(*judge_, path.string());
  ASSERT_TRUE(fs::exists(judge_json_path(path.string())));
  AttributeJudge loaded = load_judge(path.string());
  const torch::Tensor x = render(4, 0.5f, 0.5f);
  EXPECT_TRUE(torch::allclose(loaded.age(x), judge_->age(x)));
  EXPECT_TRUE(torch::allclose(loaded.race_logits(x), judge_->race_logits(x)));
  EXPECT_EQ(loaded.metrics, judge_->metrics);
  EXPECT_THROW(load_judge((dir_ / "missing.pt").string()), std::runtime_error);
}

TEST_F(JudgeTest, EvaluationReportsWhetherTheAttributeMoved) {
  // An oracle "translator" that swaps each face for its paired render in the other domain.
  const int n = 12;
  TaskHeldout age = task("age", "20-29", "50-59", 0, 1);
  age.a = render(n, 0.05f, 0.f);
  age.b = render(n, 0.95f, 0.f);
  TaskHeldout race = task("race", "White", "Black", 2, 3);
  race.a = render(n, 0.05f, 0.f, 2000);
  race.b = render(n, 0.05f, 0.95f, 2000);
  std::vector<int> conds_seen;
  auto oracle = [&](const torch::Tensor& x, int cond) {
    conds_seen.push_back(cond);
    const TaskHeldout& t = cond < 2 ? age : race;
    const torch::Tensor& from = (cond % 2 == 0) ? t.a : t.b;
    const torch::Tensor& to = (cond % 2 == 0) ? t.b : t.a;
    std::vector<torch::Tensor> out;
    for (int64_t i = 0; i < x.size(0); ++i)
      for (int64_t k = 0; k < from.size(0); ++k)
        if (torch::equal(from[k], x[i])) {
          out.push_back(to[k]);
          break;
        }
    EXPECT_EQ(static_cast<int64_t>(out.size()), x.size(0)) << "input not from the expected domain";
    return torch::stack(out);
  };
  const nlohmann::json r = evaluate_translation(oracle, {age, race}, *judge_, 5);
  std::cout << r.dump(2) << "\n";
  const auto& fwd = r.at("tasks").at("age").at("forward");
  EXPECT_EQ(fwd.at("n").get<int>(), n);
  EXPECT_EQ(fwd.at("from"), "20-29");
  EXPECT_NEAR(fwd.at("cycle_l1").get<double>(), 0.0, 1e-6);
  EXPECT_GT(fwd.at("judged_age_after").get<double>(),
            fwd.at("judged_age_before").get<double>() + 15);
  EXPECT_NEAR(fwd.at("judged_age_after").get<double>(),
              fwd.at("judged_age_target_real").get<double>(), 1e-3);
  const auto& rev = r.at("tasks").at("age").at("reverse");
  EXPECT_LT(rev.at("judged_age_after").get<double>(),
            rev.at("judged_age_before").get<double>() - 15);
  const auto& rf = r.at("tasks").at("race").at("forward");
  EXPECT_LT(rf.at("frac_target_before").get<double>(), 0.2);
  EXPECT_GT(rf.at("frac_target_after").get<double>(), 0.8);
  EXPECT_GT(rf.at("p_target_after").get<double>(), rf.at("p_target_before").get<double>());
  EXPECT_TRUE(rf.contains("p_target_real"));
  const auto& rr = r.at("tasks").at("race").at("reverse");
  EXPECT_GT(rr.at("frac_target_after").get<double>(), 0.8);
  EXPECT_TRUE(r.at("judge").contains("heldout_age_mae"));
  for (int c = 0; c < 4; ++c)
    EXPECT_NE(std::find(conds_seen.begin(), conds_seen.end(), c), conds_seen.end()) << c;

  // An identity "translator" moves nothing and comes back exactly.
  const nlohmann::json same =
      evaluate_translation([](const torch::Tensor& x, int) { return x.clone(); }, {age}, *judge_);
  const auto& still = same.at("tasks").at("age").at("forward");
  EXPECT_DOUBLE_EQ(still.at("cycle_l1").get<double>(), 0.0);
  EXPECT_NEAR(still.at("judged_age_after").get<double>(),
              still.at("judged_age_before").get<double>(), 1e-4);
  TaskHeldout bad = age;
  bad.attribute = "height";
  EXPECT_THROW(evaluate_translation([](const torch::Tensor& x, int) { return x; }, {bad}, *judge_),
               std::invalid_argument);
}

TEST(Judge, RefusesAnEmptyTrainingSet) {
  EXPECT_THROW(train_judge({}, {}, JudgeOptions{}), std::invalid_argument);
}
