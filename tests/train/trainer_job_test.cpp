// A whole small job through the plugin interface: judge, evaluation, pictures, model and card.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "facecycle/core/model_card.h"
#include "facecycle/core/model_file.h"
#include "trainer_test_util.h"

namespace fs = std::filesystem;
using namespace fc::train::testing;

namespace {
std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}
}  // namespace

TEST(TrainerJob, WritesModelCardPicturesAndEvaluation) {
  const std::string stages =
      "[[stages]]\nsize = 16\nsteps = 3\nbatch = 2\n[[stages]]\nsize = 24\nsteps = 3\nbatch = 2\n";
  // The age task prices its reverse direction's shading pattern: the card records how.
  std::string config =
      with_age_task_keys(tiny_config(stages, "[checkpoint]\nevery = 2\nkeep_last = 2\n"),
                         "keep_shape = 1.5\nkeep_shape_on = \"reverse\"\n");
  // Turn the evaluation on with a quickly trained judge.
  config.replace(config.find("enabled = false"), 15, "enabled = true\njudge_steps = 5\nfaces = 4");
  config.replace(config.find("heldout_fraction = 0.1"), 22, "heldout_fraction = 0.3");
  auto job = make_temp_dir("job");
  RecordedRun run = run_trainer(config, job, job + "/models");

  ASSERT_EQ(run.models.size(), 1u);
  EXPECT_EQ(run.models[0], job + "/models/tiny.pt");
  ASSERT_TRUE(fs::exists(job + "/models/tiny.card.json"));
  std::ifstream card_in(job + "/models/tiny.card.json");
  fc::ModelCard card = fc::ModelCard::from_json(nlohmann::json::parse(card_in));
  EXPECT_EQ(card.resolution, 24);
  EXPECT_EQ(card.width, 8);
  EXPECT_EQ(card.blocks, 2);
  EXPECT_EQ(card.conditions.size(), 4u);
  EXPECT_EQ(card.condition_id("race", true), 3);
  EXPECT_EQ(card.training["steps"], 6);
  EXPECT_TRUE(card.training.contains("wall_time_s"));
  EXPECT_TRUE(card.training.contains("hardware"));
  const auto& age = card.training["tasks"]["age"];
  EXPECT_EQ(age.value("keep_shape", 0.0), 1.5) << age.dump();
  EXPECT_EQ(age.value("keep_shape_on", ""), "reverse") << age.dump();
  EXPECT_EQ(card.training["tasks"]["race"].value("keep_shape_on", ""), "both");
  EXPECT_TRUE(card.metrics["tasks"].contains("age")) << card.metrics.dump();
  EXPECT_TRUE(card.metrics["tasks"].contains("race")) << card.metrics.dump();

  // fc-eval's path: the card's evaluation re-derived from the config and the model file alone,
  // with the judge retrained from the config's seed in a fresh folder. The config's warm start
  // has left models/ since (as v11's config names v7): training refuses it, evaluation does not
  // need it. A GPU run's config (device = "cuda", v45's) is evaluated on a host without one.
  {
    auto eval_dir = make_temp_dir("eval");
    fc::TrainRequest req;
    const std::string gpu_line = torch::cuda::is_available() ? "" : "device = \"cuda\"\n";
    req.config_toml = gpu_line + "warm_start = \"" + job + "/gone.pt\"\n" + config;
    req.config_path = job + "/config.toml";
    req.job_dir = eval_dir;
    req.models_dir = eval_dir;
    EXPECT_THROW(fc::train::load_request_config(req), std::invalid_argument);
    fc::HostContext ctx;
    fc::TrainHooks hooks;
    auto rederived =
        nlohmann::json::parse(fc::train::evaluate_model(req, job + "/models/tiny.pt", ctx, hooks));
    int compared = 0;
    for (const char* task : {"age", "race"})
      for (const char* dir : {"forward", "reverse"})
        for (auto& [k, v] : card.metrics["tasks"][task][dir].items()) {
          if (!v.is_number()) continue;
          EXPECT_NEAR(rederived["tasks"][task][dir][k].get<double>(), v.get<double>(), 1e-4)
              << task << " " << dir << " " << k;
          ++compared;
        }
    EXPECT_GE(compared, 16);

    // A calibrated card is judged as it ships: a near-zero scale on age forward leaves those
    // faces where they were for the judge, and the other directions' numbers do not move.
    fc::LoadedModel tiny = fc::load_model(job + "/models/tiny.pt", torch::kCPU);
    tiny.card.conditions.at(tiny.card.condition_id("age", false)).scale = 1e-4;
    fc::save_model(eval_dir + "/calibrated.pt", tiny.generator, tiny.card);
    auto calibrated = nlohmann::json::parse(
        fc::train::evaluate_model(req, eval_dir + "/calibrated.pt", ctx, hooks))["tasks"];
    const auto& raw_age = rederived["tasks"]["age"]["forward"];
    const auto& cal_age = calibrated["age"]["forward"];
    const double raw_move =
        raw_age["judged_age_after"].get<double>() - raw_age["judged_age_before"].get<double>();
    const double cal_move =
        cal_age["judged_age_after"].get<double>() - cal_age["judged_age_before"].get<double>();
    EXPECT_GT(std::abs(raw_move), 0.05) << "the tiny model moves the judge at its full change";
    EXPECT_LT(std::abs(cal_move), std::abs(raw_move) * 0.01) << raw_move << " " << cal_move;
    EXPECT_NEAR(calibrated["race"]["reverse"]["p_target_after"].get<double>(),
                rederived["tasks"]["race"]["reverse"]["p_target_after"].get<double>(), 1e-6);
    fs::remove_all(eval_dir);
  }

  EXPECT_TRUE(fs::exists(job + "/loss_curves.png"));
  EXPECT_TRUE(fs::exists(job + "/samples.png"));
  for (const char* sheet :
       {"samples_step000002.png", "samples_step000004.png", "samples_step000006.png"})
    EXPECT_TRUE(fs::exists(job + "/" + sheet)) << "a sheet per checkpoint: " << sheet;
  EXPECT_TRUE(fs::exists(job + "/judge.pt"));
  EXPECT_DOUBLE_EQ(run.last_progress, 1.0);
  for (const char* m :
       {"age/loss_G", "race/loss_D", "step_time_ms", "data_wait_ms", "age/steps", "race/steps"})
    EXPECT_TRUE(run.metrics.count(m)) << m;
  // The wait for faces is part of the step's time, never more: what a slow loader costs a run.
  for (const auto& [step, wait] : run.metrics["data_wait_ms"]) {
    EXPECT_GE(wait, 0.0) << step;
    EXPECT_LE(wait, run.metrics["step_time_ms"].at(step)) << step;
  }
  EXPECT_TRUE(run.metrics.count("eval/age/forward/cycle_l1"));
  EXPECT_TRUE(run.metrics.count("eval/age/forward/patch_share"));
  EXPECT_TRUE(run.metrics.count("eval/race/reverse/texture/spectral_peak_ratio"))
      << "nested evaluation numbers are metrics too, so a running job shows its texture";
  ASSERT_FALSE(run.results.empty());
  auto final_result = nlohmann::json::parse(run.results.back());
  EXPECT_EQ(final_result["model"], job + "/models/tiny.pt");
  EXPECT_TRUE(final_result["evaluation"]["tasks"].contains("race"));

  // metrics.csv: one row per step, the step's task's losses and, at checkpoints, the evaluation.
  const std::vector<std::string> csv = read_lines(job + "/metrics.csv");
  ASSERT_EQ(csv.size(), 7u) << "a header and 6 steps";
  EXPECT_EQ(csv[0].rfind("step,", 0), 0u) << csv[0];
  for (const char* col : {"age/loss_G", "race/loss_D", "lr", "eval/age/forward/cycle_l1"})
    EXPECT_NE(csv[0].find(col), std::string::npos) << col << " missing from " << csv[0];
  EXPECT_EQ(csv[6].rfind("6,", 0), 0u) << csv[6];

  // Running the finished job again (e.g. after a daemon restart) republishes the same model
  // without training further, and without logging its steps twice.
  RecordedRun again = run_trainer(config, job, job + "/models");
  EXPECT_EQ(again.models.size(), 1u);
  EXPECT_TRUE(again.metrics["age/loss_G"].empty());
  EXPECT_EQ(read_lines(job + "/metrics.csv"), csv);
  fs::remove_all(job);
}

TEST(TrainerPlugin, LoadsAndValidates) {
  const std::string path = std::string(FC_PLUGIN_DIR) + "/train.so";
  if (!fs::exists(path)) GTEST_SKIP() << "build the `train` target first: " << path;
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  auto entry = reinterpret_cast<FacecyclePluginEntryFn>(dlsym(lib, FACECYCLE_PLUGIN_ENTRY_SYMBOL));
  ASSERT_NE(entry, nullptr);
  const FacecyclePluginInfo* info = entry();
  EXPECT_EQ(info->abi_version, FACECYCLE_PLUGIN_ABI_VERSION);
  EXPECT_STREQ(info->name, "train");
  EXPECT_EQ(info->kind, static_cast<int>(fc::PluginKind::kTrainer));
  std::unique_ptr<fc::Trainer> trainer(info->create_trainer({}));
  fc::TrainRequest req;
  req.config_toml = tiny_config("[[stages]]\nsize = 30\nsteps = 3\n");
  try {
    trainer->validate(req);
    FAIL() << "size 30 must be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "stages[0].size: 30 is not divisible by 4");
  }
  req.config_toml = tiny_config("[[stages]]\nsize = 32\nsteps = 3\n");
  EXPECT_NO_THROW(trainer->validate(req));
  // A daemon's job is one process: data-parallel workers are refused at submit, naming fc-train.
  req.config_toml = tiny_config("[[stages]]\nsize = 32\nsteps = 3\n[distributed]\nworkers = 2\n");
  try {
    trainer->validate(req);
    FAIL() << "workers = 2 must be refused by the daemon's trainer";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("fc-train"), std::string::npos) << e.what();
  }
  trainer.reset();
}
