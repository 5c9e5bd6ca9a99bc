// The discriminator warm-up ([optimizer] d_warmup_steps): a warm-started generator stays exactly
// as it was while the fresh critics learn, and trains again once the warm-up is over.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "facecycle/core/model_file.h"
#include "facecycle/core/torch_threads.h"
#include "trainer_test_util.h"

using namespace fc::train::testing;

namespace {

std::string stage(int steps) {
  return "[[stages]]\nsize = 16\nsteps = " + std::to_string(steps) + "\nbatch = 2\n";
}

// The largest absolute difference between the two model files' generator weights.
double generator_distance(const std::string& a, const std::string& b) {
  torch::NoGradGuard no_grad;
  fc::LoadedModel ma = fc::load_model(a, torch::kCPU), mb = fc::load_model(b, torch::kCPU);
  auto pa = ma.generator->parameters(), pb = mb.generator->parameters();
  EXPECT_EQ(pa.size(), pb.size());
  double worst = 0;
  for (size_t i = 0; i < pa.size() && i < pb.size(); ++i)
    worst = std::max(worst, (pa[i] - pb[i]).abs().max().item<double>());
  return worst;
}

// A residual-output model trained for a few steps: the warm start of the runs below.
std::string base_model() {
  const std::string job = make_temp_dir("warmup_base");
  RecordedRun run =
      run_trainer(tiny_config(stage(4), "", "output = \"residual\"\n"), job, job + "/models");
  EXPECT_EQ(run.models.size(), 1u);
  return run.models.empty() ? "" : run.models[0];
}

RecordedRun warm_run(const std::string& base, int steps, int warmup) {
  const std::string job = make_temp_dir("warmup");
  const std::string extra = "warm_start = \"" + base + "\"\n";
  const std::string optimizer = "[optimizer]\nd_warmup_steps = " + std::to_string(warmup) + "\n";
  // warm_start is a top-level key, so it goes before the first table.
  return run_trainer(extra + tiny_config(stage(steps), optimizer, "output = \"residual\"\n"), job,
                     job + "/models");
}

}  // namespace

TEST(TrainerWarmup, GeneratorStaysAsWarmStartedWhileTheCriticsLearn) {
  fc::use_torch_threads(1);
  const std::string base = base_model();
  ASSERT_FALSE(base.empty());

  RecordedRun warm = warm_run(base, 6, 6);
  ASSERT_EQ(warm.models.size(), 1u);
  EXPECT_EQ(generator_distance(base, warm.models[0]), 0.0)
      << "a run that is all warm-up must hand back the warm-start generator unchanged";
}

TEST(TrainerWarmup, GeneratorLearnsAfterTheWarmup) {
  fc::use_torch_threads(1);
  const std::string base = base_model();
  ASSERT_FALSE(base.empty());

  RecordedRun run = warm_run(base, 6, 3);
  ASSERT_EQ(run.models.size(), 1u);
  EXPECT_GT(generator_distance(base, run.models[0]), 0.0)
      << "after the warm-up the generator must train again";
}

// A warm start from a model without a chroma grid takes the config's, and the saved card says so.
TEST(TrainerWarmup, WarmStartTakesTheConfigsChromaGrid) {
  fc::use_torch_threads(1);
  const std::string base = base_model();
  ASSERT_FALSE(base.empty());
  const std::string job = make_temp_dir("warmup_grid");
  const std::string extra = "warm_start = \"" + base + "\"\n";
  RecordedRun run =
      run_trainer(extra + tiny_config(stage(2), "", "output = \"residual\"\nchroma_grid = 4\n"),
                  job, job + "/models");
  ASSERT_EQ(run.models.size(), 1u);
  EXPECT_EQ(fc::load_model(run.models[0], torch::kCPU).card.chroma_grid, 4);
}

// How far two model files' edits of one task lie apart on the same noise faces, mean absolute.
double edit_distance(const std::string& a, const std::string& b, bool reverse) {
  torch::NoGradGuard no_grad;
  fc::LoadedModel ma = fc::load_model(a, torch::kCPU), mb = fc::load_model(b, torch::kCPU);
  const torch::Tensor x = torch::rand({4, 3, 16, 16}) * 2 - 1;
  const torch::Tensor c = torch::full({4}, ma.card.condition_id("age", reverse), torch::kLong);
  return (ma.generator->forward(x, c) - mb.generator->forward(x, c)).abs().mean().item<double>();
}

// A held age task (hold > 0) keeps the warm start's age edit while every weight trains for race:
// its steps pull G back toward the warm start's output. The same run with the age task training
// moves the age edit several times as far.
TEST(TrainerWarmup, AHeldTaskKeepsTheWarmStartsEditWhileTheSharedWeightsTrain) {
  fc::use_torch_threads(1);
  const std::string base = base_model();
  ASSERT_FALSE(base.empty());
  auto run = [&](const std::string& age_keys) {
    const std::string job = make_temp_dir("hold");
    const std::string config = with_age_task_keys(
        "warm_start = \"" + base + "\"\n" +
            tiny_config(stage(12), "[balance]\nmode = \"fixed\"\n", "output = \"residual\"\n"),
        age_keys);
    RecordedRun r = run_trainer(config, job, job + "/models");
    EXPECT_EQ(r.models.size(), 1u);
    return r;
  };
  RecordedRun held = run("hold = 200\n"), free = run("");
  ASSERT_EQ(held.models.size(), 1u);
  ASSERT_EQ(free.models.size(), 1u);
  EXPECT_GT(generator_distance(base, held.models[0]), 0.0) << "the shared weights train";
  EXPECT_TRUE(held.metrics.count("age/loss_hold")) << "the held task's own steps are its pull";
  EXPECT_TRUE(held.metrics.count("race/loss_hold")) << "and the race steps carry it";
  EXPECT_FALSE(free.metrics.count("race/loss_hold"));
  for (bool reverse : {false, true}) {
    torch::manual_seed(7);
    const double kept = edit_distance(base, held.models[0], reverse);
    torch::manual_seed(7);
    const double moved = edit_distance(base, free.models[0], reverse);
    EXPECT_LT(kept, 0.5 * moved) << "age reverse " << reverse << ": held " << kept << ", free "
                                 << moved;
  }
}

// [generator] train = "condition_norms" with the age task given no steps: only the race
// conditions' norm scales and shifts move; every shared weight and the age conditions' rows keep
// the warm start's exactly, so the age edit is the warm start's.
TEST(TrainerWarmup, ConditionNormsRunMovesOnlyTheTrainedTasksRows) {
  fc::use_torch_threads(1);
  const std::string base = base_model();
  ASSERT_FALSE(base.empty());
  const std::string job = make_temp_dir("cond_norms");
  const std::string config =
      with_age_task_keys("warm_start = \"" + base + "\"\n" +
                             tiny_config(stage(6), "[balance]\nmode = \"fixed\"\n",
                                         "output = \"residual\"\ntrain = \"condition_norms\"\n"),
                         "weight = 0\n");
  RecordedRun run = run_trainer(config, job, job + "/models");
  ASSERT_EQ(run.models.size(), 1u);

  torch::NoGradGuard no_grad;
  fc::LoadedModel a = fc::load_model(base, torch::kCPU),
                  b = fc::load_model(run.models[0], torch::kCPU);
  const int age_fwd = a.card.condition_id("age", false), age_rev = a.card.condition_id("age", true);
  auto pb = b.generator->named_parameters();
  int embeds = 0;
  double race_moved = 0;
  for (const auto& p : a.generator->named_parameters()) {
    const torch::Tensor& w0 = p.value();
    const torch::Tensor& w1 = pb[p.key()];
    if (p.key().find("embed.") == std::string::npos) {
      EXPECT_TRUE(torch::equal(w0, w1)) << p.key() << " is shared and must not move";
      continue;
    }
    ++embeds;
    for (int row : {age_fwd, age_rev})
      EXPECT_TRUE(torch::equal(w0[row], w1[row])) << p.key() << " row " << row << " (age)";
    race_moved = std::max(race_moved, (w0 - w1).abs().max().item<double>());
  }
  EXPECT_GT(embeds, 0);
  EXPECT_GT(race_moved, 0.0) << "the race conditions' rows must train";
}
