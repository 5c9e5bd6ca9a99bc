// fc-model: write deterministic seeded models for tests and demos, and describe model files.
#include <CLI/CLI.hpp>
#include <iostream>
#include <vector>

#include "facecycle/core/model_file.h"

namespace {

int init(const std::string& out, const fc::GeneratorOptions& shape, int resolution, uint64_t seed,
         const std::string& name) {
  auto card = fc::write_seeded_model(out, shape, resolution, seed, name);
  std::cout << "wrote " << out << " and " << fc::card_path_for(out) << " (" << card.name
            << ", width " << card.width << ", blocks " << card.blocks << ", " << resolution
            << " px, " << fc::enum_name(card.conditioning) << ", " << fc::enum_name(card.upsample)
            << ")\n";
  return 0;
}

// The names in an enum's table (generator_options.h), for CLI::IsMember.
template <typename E>
std::vector<std::string> names() {
  std::vector<std::string> out;
  for (const auto& row : fc::EnumNames<E>::table) out.push_back(row.second);
  return out;
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
  fc::GeneratorOptions shape;
  int resolution = 128;
  uint64_t seed = 0;
  std::string name, out;
  std::string conditioning = fc::enum_name(shape.conditioning);
  std::string upsample = fc::enum_name(shape.upsampling);
  cmd_init->add_option("--width", shape.width, "base channels")->capture_default_str();
  cmd_init->add_option("--blocks", shape.blocks, "residual blocks")->capture_default_str();
  cmd_init->add_option("--resolution", resolution, "face crop size (multiple of 4)")
      ->capture_default_str();
  cmd_init->add_option("--seed", seed, "initialisation seed")->required();
  cmd_init->add_option("--conditioning", conditioning)
      ->check(CLI::IsMember(names<fc::Conditioning>()))
      ->capture_default_str();
  cmd_init->add_option("--upsample", upsample)
      ->check(CLI::IsMember(names<fc::Upsampling>()))
      ->capture_default_str();
  cmd_init->add_option("--name", name, "model name in the card");
  cmd_init->add_option("OUT", out, "output model path, NAME.pt")->required();

  auto* cmd_info = app.add_subcommand("info", "print a model's card and parameter count");
  std::string model;
  cmd_info->add_option("MODEL", model, "model path, NAME.pt")->required();

  CLI11_PARSE(app, argc, argv);
  try {
    if (*cmd_init) {
      shape.conditioning = *fc::enum_from_string<fc::Conditioning>(conditioning);
      shape.upsampling = *fc::enum_from_string<fc::Upsampling>(upsample);
      return init(out, shape, resolution, seed, name);
    }
    return info(model);
  } catch (const std::exception& e) {
    std::cerr << "fc-model: " << e.what() << "\n";
    return 1;
  }
}
