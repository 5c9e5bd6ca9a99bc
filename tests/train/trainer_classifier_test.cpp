// The domain classifier's strength ([tasks.NAME] cls_steps, cls_lr_scale): a classifier trained
// harder separates the real faces of the two domains better, which is what it is for (its pull
// on the generator stops once it is surer of the fakes than of real faces, docs/MODEL.md).
#include <gtest/gtest.h>

#include "facecycle/core/torch_threads.h"
#include "trainer_test_util.h"

using namespace fc::train::testing;

namespace {

constexpr int kSteps = 24;

// The age classifier's loss on real faces, averaged over the last steps of a run that is all
// warm-up (the generator never moves, so both runs classify the same faces' domains).
double late_real_loss(const std::string& age_keys) {
  std::string config = tiny_config(
      "[[stages]]\nsize = 16\nsteps = " + std::to_string(kSteps) + "\nbatch = 2\n",
      "[losses]\nlambda_cls = 1.0\n[optimizer]\nd_warmup_steps = " + std::to_string(kSteps) + "\n");
  config = "log_every = 1\n" + with_age_task_keys(config, age_keys);
  const std::string job = make_temp_dir("classifier");
  RecordedRun run = run_trainer(config, job, job + "/models");
  const auto& loss = run.metrics["age/loss_cls_real"];
  double sum = 0;
  int n = 0;
  for (auto [step, v] : loss)
    if (step > kSteps - 8) sum += v, ++n;
  EXPECT_GT(n, 0) << "no age/loss_cls_real metrics in the last steps";
  return n ? sum / n : 0;
}

}  // namespace

TEST(TrainerClassifier, MoreUpdatesSeparateRealFacesBetter) {
  fc::use_torch_threads(1);
  const double plain = late_real_loss("");
  const double stronger = late_real_loss("cls_steps = 4\ncls_lr_scale = 3\n");
  EXPECT_LT(stronger, plain * 0.9) << "plain " << plain << ", stronger " << stronger;
}
