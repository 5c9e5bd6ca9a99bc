// fc-eval: re-derives a model card's held-out evaluation from a training config, without a
// daemon and without training the generator.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "facecycle/core/model_card.h"
#include "facecycle/core/model_file.h"
#include "trainer.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string fmt(const json& v, int digits) {
  if (!v.is_number()) return "-";
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v.get<double>();
  return s.str();
}

void print_markdown(const json& r) {
  const json& judge = r.value("judge", json::object());
  std::cout << "judge: held-out age MAE " << fmt(judge.value("heldout_age_mae", json()), 1)
            << " years, White/Black accuracy "
            << fmt(judge.value("heldout_white_black_accuracy", json()), 3) << "\n\n";
  std::cout << "| task | direction | n | judged | before | after | real target | cycle L1 | "
               "patch share | texture HF (real) | spectral peak (real) |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|\n";
  const json tasks = r.value("tasks", json::object());  // items() must not outlive it
  for (auto& [task, t] : tasks.items())
    for (const auto& [unused, dir] : fc::EnumNames<fc::Direction>::table) {
      if (!t.contains(dir)) continue;
      const json& d = t[dir];
      const bool age = d.contains("judged_age_before");
      std::cout << "| " << task << " | " << d.value("from", "?") << " → " << d.value("to", "?")
                << " | " << d.value("n", 0) << " | "
                << (age ? "judged age (years)"
                        : "P(" + d.value("to", std::string("?")) + ") (fraction classified)")
                << " | ";
      if (age) {
        std::cout << fmt(d["judged_age_before"], 1) << " | " << fmt(d["judged_age_after"], 1)
                  << " | " << fmt(d["judged_age_target_real"], 1);
      } else {
        std::cout << fmt(d["p_target_before"], 2) << " (" << fmt(d["frac_target_before"], 2)
                  << ") | " << fmt(d["p_target_after"], 2) << " (" << fmt(d["frac_target_after"], 2)
                  << ") | " << fmt(d["p_target_real"], 2);
      }
      std::cout << " | " << fmt(d["cycle_l1"], 3) << " | "
                << fmt(d.value("patch_share", json()), 2);
      // Texture of the outputs against real target photos; the real source photos in brackets.
      const json none = json::object();
      const json &tex = d.value("texture", none), &src = d.value("texture_source", none);
      for (const char* k : {"hf_power_ratio", "spectral_peak_ratio"})
        std::cout << " | " << fmt(tex.value(k, json()), 2) << " (" << fmt(src.value(k, json()), 2)
                  << ")";
      std::cout << " |\n";
    }
}

// The table judges a calibrated card as it ships (Condition::scale, change_blur), which a reader
// comparing it with the generator's raw change needs to know.
void print_calibration(const std::string& model) {
  std::ifstream in(fc::card_path_for(model));
  const fc::ModelCard card = fc::ModelCard::from_json(json::parse(in));
  for (const auto& c : card.conditions)
    if (c.scale != 1.0)
      std::cout << "\nas shipped, " << c.task << " " << c.from << " → " << c.to << " applies "
                << c.scale << " of the generator's change (the card's calibrated scale; "
                << "docs/MODEL.md, \"Calibrated strength\")";
  for (const auto& c : card.conditions)
    if (c.change_blur != 0)
      std::cout << "\nas shipped, " << c.task << " " << c.from << " → " << c.to
                << " passes the generator's change through a 3x3 binomial blur "
                << (c.change_blur == 1 ? std::string("once")
                                       : std::to_string(c.change_blur) + " times")
                << " (the card's change_blur; docs/MODEL.md, \"Change blur\")";
  std::cout << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "fc-eval: the held-out evaluation of a model file, as its training job computed it "
      "(same data split, tasks and judge), without training"};
  std::string config, model, work, judge;
  bool as_json = false;
  app.add_option("--config", config, "the training config the model was trained with")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--model", model, "model .pt (its .card.json beside it)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--work-dir", work,
                 "folder for the judge it trains (default: a temporary folder; reuse one to "
                 "skip retraining the judge)");
  app.add_option("--judge", judge, "a trained judge .pt instead (overrides eval.judge_path)");
  app.add_flag("--json", as_json, "print the evaluation JSON instead of a Markdown table");
  app.footer(
      "Example (the shipped model's card):\n"
      "  fc-eval --config configs/utkface-v35.toml --model models/facecycle-utk-v35.pt\n"
      "The judge is retrained from the config's seed, which takes a few minutes on 2 cores;\n"
      "it is deterministic on one machine, and another CPU can move its figures a little, so\n"
      "compare two models under one judge file (--judge, e.g. a job's judge.pt).");
  CLI11_PARSE(app, argc, argv);

  const bool temp = work.empty();
  if (temp) work = (fs::temp_directory_path() / ("fc-eval-" + std::to_string(::getpid()))).string();
  fc::TrainRequest req;
  std::ifstream in(config);
  req.config_toml.assign(std::istreambuf_iterator<char>(in), {});
  req.config_path = fs::absolute(config).string();
  req.job_dir = work;
  req.models_dir = work;
  if (!judge.empty()) {
    fs::create_directories(work);
    fs::copy_file(judge, fs::path(work) / "judge.pt", fs::copy_options::overwrite_existing);
    const auto judge_json = fs::path(judge).replace_extension(".json");
    if (fs::exists(judge_json))
      fs::copy_file(judge_json, fs::path(work) / "judge.json",
                    fs::copy_options::overwrite_existing);
  }
  fc::HostContext ctx;
  ctx.log = [](fc::LogLevel, const std::string& m) { std::cerr << m << "\n"; };
  ctx.progress = [](double, const std::string& m) { std::cerr << m << "\n"; };
  fc::TrainHooks hooks;
  int rc = 0;
  try {
    json r = json::parse(fc::train::evaluate_model(req, model, ctx, hooks));
    if (as_json)
      std::cout << r.dump(2) << "\n";
    else {
      print_markdown(r);
      print_calibration(model);
    }
  } catch (const std::exception& e) {
    std::cerr << "fc-eval: " << e.what() << "\n";
    rc = 1;
  }
  if (temp) fs::remove_all(work);
  return rc;
}
