// fc-model: write deterministic seeded models for tests and demos, and describe model files.
#include <CLI/CLI.hpp>
#include <iostream>

#include "facecycle/core/model_file.h"

namespace {

int init(const std::string& out, int width, int blocks, int resolution, uint64_t seed,
         const std::string& conditioning, const std::string& upsample, const std::string& name) {
  fc::ModelCard shape;
  shape.width = width;
  shape.blocks = blocks;
  shape.conditioning = conditioning;
  shape.upsample = upsample;
  shape.conditions = fc::default_conditions();
  auto card =
      fc::write_seeded_model(out, fc::GeneratorOptions::from_card(shape), resolution, seed, name);
  std::cout << "wrote " << out << " and " << fc::card_path_for(out) << " (" << card.name
            << ", width " << card.width << ", blocks " << card.blocks << ", " << resolution
            << " px, " << card.conditioning << ", " << card.upsample << ")\n";
  return 0;
}

int info(const std::string& path) {
  auto m = fc::load_model(path, torch::kCPU);
  int64_t params = 0;
  for (const auto& p : m.generator->parameters()) params += p.numel();
  std::cout << m.card.to_json().dump(2) << "\nparameters: " << params << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fc-model: create and inspect facecycle generator files (NAME.pt + NAME.card.json)"};
  app.require_subcommand(1);

  auto* cmd_init =
      app.add_subcommand("init", "write a deterministically initialised (untrained) model");
  int width = 32, blocks = 6, resolution = 128;
  uint64_t seed = 0;
  std::string conditioning = "cin", upsample = "resize_conv", name, out;
  cmd_init->add_option("--width", width, "base channels")->capture_default_str();
  cmd_init->add_option("--blocks", blocks, "residual blocks")->capture_default_str();
  cmd_init->add_option("--resolution", resolution, "face crop size (multiple of 4)")
      ->capture_default_str();
  cmd_init->add_option("--seed", seed, "initialisation seed")->required();
  cmd_init->add_option("--conditioning", conditioning)
      ->check(CLI::IsMember({"cin", "channel4"}))
      ->capture_default_str();
  cmd_init->add_option("--upsample", upsample)
      ->check(CLI::IsMember({"resize_conv", "resize_conv_bilinear", "transposed"}))
      ->capture_default_str();
  cmd_init->add_option("--name", name, "model name in the card");
  cmd_init->add_option("OUT", out, "output model path, NAME.pt")->required();

  auto* cmd_info = app.add_subcommand("info", "print a model's card and parameter count");
  std::string model;
  cmd_info->add_option("MODEL", model, "model path, NAME.pt")->required();

  CLI11_PARSE(app, argc, argv);
  try {
    if (*cmd_init) return init(out, width, blocks, resolution, seed, conditioning, upsample, name);
    return info(model);
  } catch (const std::exception& e) {
    std::cerr << "fc-model: " << e.what() << "\n";
    return 1;
  }
}
