// Model files: NAME.pt (the generator's parameters and buffers) with NAME.card.json beside it.
// The .pt is written as safetensors (facecycle/core/safetensors.h), so a model trained with one
// LibTorch version loads with another (docs/GPU.md); torch::save archives are still read.
#pragma once

#include <string>

#include "facecycle/core/model_card.h"
#include "facecycle/core/networks.h"

namespace fc {

// The card's "weights_format" for files save_model writes; cards without it came with archives.
inline constexpr const char* kWeightsFormat = "safetensors";

std::string card_path_for(const std::string& model_path);  // NAME.pt -> NAME.card.json

// Writes both files through temporary names and renames them into place; the weights as
// safetensors, the card with "weights_format" added.
void save_model(const std::string& model_path, ResnetGenerator& generator, const ModelCard& card);

struct LoadedModel {
  ModelCard card;
  ResnetGenerator generator{nullptr};
};

// Builds the generator from the card and loads the weights; a card that does not match the
// weights (shapes, condition count) is refused with a clear error.
LoadedModel load_model(const std::string& model_path, const torch::Device& device);

// Writes a deterministic, untrained model (make_seeded_generator) with the default condition
// table, for tests and demos; `fc-model init` calls this. Returns the card it wrote.
ModelCard write_seeded_model(const std::string& model_path, const GeneratorOptions& options,
                             int resolution, uint64_t seed, const std::string& name = "");

}  // namespace fc
