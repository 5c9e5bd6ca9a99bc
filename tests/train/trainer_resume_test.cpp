// Exact resume: a run cancelled at step K and continued to 2K reports the same losses as one
// that ran to 2K without stopping (CPU, fixed threads, deterministic ops), including across a
// progressive stage change where the discriminators are rebuilt and the generator carries over.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "facecycle/core/model_file.h"
#include "trainer_test_util.h"

namespace fs = std::filesystem;
using namespace fc::train::testing;

namespace {

void expect_same_losses(const RecordedRun& fresh, const RecordedRun& resumed, long from, long to) {
  int compared = 0;
  for (const char* name : {"age/loss_G", "age/loss_D", "race/loss_G", "race/loss_D",
                           "age/loss_cycle_A", "race/loss_idt_B"}) {
    auto f = fresh.metrics.find(name);
    auto r = resumed.metrics.find(name);
    ASSERT_NE(f, fresh.metrics.end()) << name;
    ASSERT_NE(r, resumed.metrics.end()) << name;
    for (auto [step, v] : f->second) {
      if (step <= from || step > to) continue;
      auto it = r->second.find(step);
      ASSERT_NE(it, r->second.end()) << name << " missing at step " << step;
      EXPECT_NEAR(it->second, v, 1e-6) << name << " at step " << step;
      ++compared;
    }
  }
  EXPECT_GT(compared, 6);
}

// The generator weights a model file holds.
std::vector<torch::Tensor> model_weights(const std::string& path) {
  return fc::load_model(path, torch::kCPU).generator->parameters();
}

void resume_config(const std::string& config, long cancel_at, long total) {
  auto fresh_dir = make_temp_dir("fresh"), job = make_temp_dir("resumed");
  RecordedRun fresh = run_trainer(config, fresh_dir, fresh_dir + "/models");
  ASSERT_EQ(fresh.models.size(), 1u);

  RecordedRun first = run_trainer(config, job, job + "/models", cancel_at);
  EXPECT_TRUE(first.models.empty()) << "a cancelled run must not publish a model";
  EXPECT_LT(first.last_progress, 1.0);
  // A crash while writing the next checkpoint leaves a temp file; resume must ignore it.
  std::ofstream(job + "/checkpoints/ckpt_000000099.pt.tmp") << "half";

  RecordedRun second = run_trainer(config, job, job + "/models");
  ASSERT_EQ(second.models.size(), 1u);
  EXPECT_FALSE(second.metrics["age/loss_G"].count(1)) << "the resumed run redid early steps";
  expect_same_losses(fresh, second, cancel_at, total);
  int files = 0;
  for (auto& e : fs::directory_iterator(job + "/checkpoints")) files += e.is_regular_file();
  EXPECT_EQ(files, 2) << "keep_last = 2, and the stale temp file is gone";
  // The step counts per task survive the restart too.
  EXPECT_EQ(second.metrics["age/steps"][total] + second.metrics["race/steps"][total], total);
  EXPECT_EQ(second.metrics["age/steps"][total], fresh.metrics["age/steps"][total]);
  // The model file (the EMA's weights when it is on) is the same as the uninterrupted run's.
  auto w_fresh = model_weights(fresh.models[0]), w_resumed = model_weights(second.models[0]);
  ASSERT_EQ(w_fresh.size(), w_resumed.size());
  for (size_t i = 0; i < w_fresh.size(); ++i)
    EXPECT_TRUE(torch::allclose(w_fresh[i], w_resumed[i], 1e-6, 1e-6)) << "parameter " << i;
  fs::remove_all(fresh_dir);
  fs::remove_all(job);
}

void resume_case(const std::string& stages, long cancel_at, long total,
                 const std::string& extra = "", const std::string& generator_extra = "",
                 const std::string& discriminator_extra = "") {
  resume_config(tiny_config(stages, "[checkpoint]\nevery = 3\nkeep_last = 2\n" + extra,
                            generator_extra, discriminator_extra),
                cancel_at, total);
}

}  // namespace

TEST(TrainerResume, MidStageCancelThenContinueMatchesUninterrupted) {
  resume_case("[[stages]]\nsize = 16\nsteps = 8\nbatch = 2\n", 4, 8);
}

// 16px -> 24px changes the discriminator depth, so it is rebuilt from the (restored) torch RNG;
// the generator, its optimiser and the balancer carry over.
TEST(TrainerResume, AcrossAStageChange) {
  resume_case(
      "[[stages]]\nsize = 16\nsteps = 5\nbatch = 2\n[[stages]]\nsize = 24\nsteps = 5\nbatch = 2\n",
      5, 10);
}

// The domain classifier, its optimiser and the generator's EMA are part of the exact resume.
TEST(TrainerResume, WithDomainClassifierAndEma) {
  resume_case("[[stages]]\nsize = 16\nsteps = 8\nbatch = 2\n", 4, 8, "[losses]\nlambda_cls = 1.0\n",
              "ema = 0.9\n");
}

// A stronger age classifier (its own width and learning rate, extra updates that draw more real
// faces from the task's loaders) is part of the exact resume too.
TEST(TrainerResume, WithAStrongerClassifier) {
  const std::string config = tiny_config("[[stages]]\nsize = 16\nsteps = 8\nbatch = 2\n",
                                         "[checkpoint]\nevery = 3\nkeep_last = 2\n"
                                         "[losses]\nlambda_cls = 1.0\n");
  resume_config(with_age_task_keys(config, "cls_width = 12\ncls_lr_scale = 2\ncls_steps = 3\n"), 4,
                8);
}

// The local discriminators share optD with the main ones and are part of the exact resume.
TEST(TrainerResume, WithLocalDiscriminators) {
  resume_case("[[stages]]\nsize = 16\nsteps = 8\nbatch = 2\n", 4, 8, "", "",
              "local_layers = 1\nlocal_weight = 0.5\n");
}

// A held task's frozen warm start is rebuilt from warm_start on resume, and the batches its pull
// draws are part of the loaders' positions: the resumed run matches the uninterrupted one.
TEST(TrainerResume, WithAHeldTask) {
  const std::string base_dir = make_temp_dir("held_base");
  RecordedRun base = run_trainer(
      tiny_config("[[stages]]\nsize = 16\nsteps = 4\nbatch = 2\n", "", "output = \"residual\"\n"),
      base_dir, base_dir + "/models");
  ASSERT_EQ(base.models.size(), 1u);
  const std::string config =
      "warm_start = \"" + base.models[0] + "\"\n" +
      tiny_config("[[stages]]\nsize = 16\nsteps = 8\nbatch = 2\n",
                  "[checkpoint]\nevery = 3\nkeep_last = 2\n", "output = \"residual\"\n");
  resume_config(with_age_task_keys(config, "hold = 5\n"), 4, 8);
  fs::remove_all(base_dir);
}
