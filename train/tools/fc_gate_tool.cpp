// fc-gate: trains the domain gate shipped beside a model (NAME.gate.safetensors), from the
// model's training config: its tasks, domains, data and held-out split.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "eval/gate_training.h"
#include "facecycle/core/config_paths.h"
#include "facecycle/core/torch_threads.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  CLI::App app{
      "fc-gate: trains a model's domain gate, the small classifier that tells the generate "
      "stages which faces already are the edit's target (those are left as they are)"};
  std::string config, model;
  fc::train::GateTrainOptions o;
  int threads = 0;
  app.add_option("--config", config, "the model's training config (tasks, data, split)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--model", model, "the model .pt the gate goes beside (NAME.gate.safetensors)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--steps", o.steps, "Adam steps")->check(CLI::Range(1, 1000000));
  app.add_option("--width", o.width, "channels of the first conv layer")->check(CLI::Range(1, 64));
  app.add_option("--size", o.size, "input side in pixels")->check(CLI::Range(16, 256));
  app.add_option("--skip-at", o.skip_at,
                 "a face at least this likely to be the target already is left unedited")
      ->check(CLI::Range(0.5, 1.0));
  app.add_option("--max-images", o.max_images,
                 "training faces decoded per domain, a seeded sample (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--tasks", o.tasks, "the config's tasks to gate (default: all)");
  app.add_option("--batch", o.batch, "faces per domain per step")->check(CLI::Range(1, 4096));
  app.add_option("--threads", threads, "torch threads (default: all cores)");
  app.footer(
      "Example (the shipped model's gate):\n"
      "  fc-gate --config configs/utkface-v35.toml --model models/facecycle-utk-v55.pt \\\n"
      "      --steps 6000 --width 12 --tasks race --skip-at 0.98\n"
      "It prints, per task and direction, the held-out fractions the threshold skips.");
  CLI11_PARSE(app, argc, argv);
  try {
    std::ifstream in(config);
    const std::string text{std::istreambuf_iterator<char>(in), {}};
    const fc::train::TrainConfig cfg = fc::train::parse_train_config(text, config);
    if (cfg.data_dir.empty())
      throw std::invalid_argument("the config has no data.dir (a synthetic run has no gate)");
    // Debian's LibTorch starts with one thread.
    fc::use_torch_threads(threads > 0 ? threads : int(std::thread::hardware_concurrency()));
    const std::string data = fc::resolve_config_path(cfg.data_dir, fs::absolute(config).string());
    auto gate = fc::train::train_gate(cfg, data, o, [](int step, double loss) {
      std::cerr << "step " << step << " loss " << loss << "\n";
    });
    const std::string path = fc::gate_path_for(model);
    fc::save_gate(path, gate);
    std::cout << nlohmann::json::parse(gate->spec().heldout_json).dump(2) << "\n"
              << "wrote " << path << "\n";
  } catch (const std::exception& e) {
    std::cerr << "fc-gate: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
