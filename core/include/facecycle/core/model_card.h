// The JSON card that travels with every model file. No torch types.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "facecycle/core/generator_options.h"

namespace fc {

// Which way a condition translates: forward is a task's A->B ("20-29" -> "50-59"), reverse its
// B->A. Cards, output metadata and evaluation reports spell it through the table below.
enum class Direction { kForward, kReverse };

template <>
struct EnumNames<Direction> {
  static constexpr std::pair<Direction, const char*> table[] = {{Direction::kForward, "forward"},
                                                                {Direction::kReverse, "reverse"}};
};

// Requests carry `reverse` as a flag (proto, job specs); this is the one place it becomes a
// direction.
inline Direction direction_of(bool reverse) {
  return reverse ? Direction::kReverse : Direction::kForward;
}

// One (task, direction) pair; its id is the generator's condition index.
struct Condition {
  int id = 0;
  std::string task;  // "age"
  Direction direction = Direction::kForward;
  std::string from;  // "20-29"
  std::string to;    // "50-59"
  // The share of the generator's change that --strength 1 applies in this direction. A card
  // leaves it out (1) until the model is calibrated: chosen on held-out faces disjoint from the
  // ones its card reports on (docs/MODEL.md, "Calibrated strength"), because a full change can
  // cost more identity than it buys attribute. In (0, kMaxConditionScale].
  double scale = 1.0;
  // Passes of a 3x3 binomial blur over the generator's change in this direction, at the model's
  // resolution (fc::shape_change); 0, the default, leaves it out of the card. For a change that
  // carries faint two-pixel stripes (v45's ageing and race edits, docs/MODEL.md "Change blur"):
  // the photo's own detail is untouched, since only the change is blurred. In [0, kMaxChangeBlur].
  int change_blur = 0;
};

constexpr double kMaxConditionScale = 3.0;
constexpr int kMaxChangeBlur = 3;

// The default condition table: age young->old, age old->young, race White->Black,
// race Black->White.
std::vector<Condition> default_conditions();

struct ModelCard {
  std::string name;
  int card_version = 1;
  std::vector<Condition> conditions;
  int resolution = 128;  // training/inference size of the face crop
  // The generator's shape; the JSON spells the choices as generator_options.h's tables do.
  Conditioning conditioning = Conditioning::kCondInstanceNorm;
  Upsampling upsample = Upsampling::kResizeConv;
  std::string norm = "instance";
  Output output = Output::kImage;  // "output" is absent from cards before v2: image
  int width = 32;                  // base channels
  int blocks = 6;                  // residual blocks
  int chroma_grid = 0;             // GeneratorOptions::chroma_grid; absent before v29: 0
  bool desaturation_map = false;   // GeneratorOptions::desaturation_map; absent before v42
  nlohmann::json training = nlohmann::json::object();  // data, split, steps, wall time, hardware
  nlohmann::json metrics = nlohmann::json::object();   // held-out evaluation
  std::string licence;
  std::string notes;

  // The condition for (task, reverse), or nullptr when the card has none.
  const Condition* find_condition(const std::string& task, bool reverse) const;
  // The same, but throws std::invalid_argument listing known tasks when there is none.
  const Condition& condition(const std::string& task, bool reverse) const;
  // Its index (the generator's condition id).
  int condition_id(const std::string& task, bool reverse) const {
    return condition(task, reverse).id;
  }
  std::vector<std::string> tasks() const;

  // The generator this card describes (one condition per entry of `conditions`), and back.
  GeneratorOptions generator_options() const;
  void set_generator(const GeneratorOptions& options);

  nlohmann::json to_json() const;
  // Throws std::runtime_error naming the bad field.
  static ModelCard from_json(const nlohmann::json& j);
};

}  // namespace fc
