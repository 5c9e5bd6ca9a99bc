// The model card: JSON round trip and condition lookup. No torch.
#include "facecycle/core/model_card.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace fc {

std::vector<Condition> default_conditions() {
  return {
      {0, "age", Direction::kForward, "20-29", "50-59"},
      {1, "age", Direction::kReverse, "50-59", "20-29"},
      {2, "race", Direction::kForward, "White", "Black"},
      {3, "race", Direction::kReverse, "Black", "White"},
  };
}

std::vector<std::string> ModelCard::tasks() const {
  std::vector<std::string> out;
  for (const auto& c : conditions)
    if (std::find(out.begin(), out.end(), c.task) == out.end()) out.push_back(c.task);
  return out;
}

const Condition* ModelCard::find_condition(const std::string& task, bool reverse) const {
  const Direction direction = direction_of(reverse);
  for (const auto& c : conditions)
    if (c.task == task && c.direction == direction) return &c;
  return nullptr;
}

const Condition& ModelCard::condition(const std::string& task, bool reverse) const {
  if (const Condition* c = find_condition(task, reverse)) return *c;
  const Direction direction = direction_of(reverse);
  std::string known;
  for (const auto& t : tasks()) known += (known.empty() ? "" : ", ") + t;
  throw std::invalid_argument("unknown task '" + task + "' (" + enum_name(direction) +
                              ") for model '" + name +
                              "'; the model knows: " + (known.empty() ? "none" : known));
}

GeneratorOptions ModelCard::generator_options() const {
  GeneratorOptions o;
  o.width = width;
  o.blocks = blocks;
  o.num_conditions = static_cast<int>(conditions.size());
  o.conditioning = conditioning;
  o.upsampling = upsample;
  o.output = output;
  o.chroma_grid = chroma_grid;
  o.desaturation_map = desaturation_map;
  return o;
}

void ModelCard::set_generator(const GeneratorOptions& o) {
  width = o.width;
  blocks = o.blocks;
  conditioning = o.conditioning;
  upsample = o.upsampling;
  norm = "instance";
  output = o.output;
  chroma_grid = o.chroma_grid;
  desaturation_map = o.desaturation_map;
}

nlohmann::json ModelCard::to_json() const {
  nlohmann::json conds = nlohmann::json::array();
  for (const auto& c : conditions) {
    nlohmann::json cj = {{"id", c.id},
                         {"task", c.task},
                         {"direction", enum_name(c.direction)},
                         {"from", c.from},
                         {"to", c.to}};
    if (c.scale != 1.0) cj["scale"] = c.scale;  // uncalibrated cards stay as they were
    if (c.change_blur != 0) cj["change_blur"] = c.change_blur;
    conds.push_back(cj);
  }
  return {{"name", name},
          {"card_version", card_version},
          {"conditions", conds},
          {"resolution", resolution},
          {"conditioning", enum_name(conditioning)},
          {"upsample", enum_name(upsample)},
          {"norm", norm},
          {"output", enum_name(output)},
          {"width", width},
          {"blocks", blocks},
          {"chroma_grid", chroma_grid},
          {"desaturation_map", desaturation_map},
          {"training", training},
          {"metrics", metrics},
          {"licence", licence},
          {"notes", notes}};
}

namespace {

// Reads an optional field, naming it in the error when it has the wrong type.
template <typename T>
void read_field(const nlohmann::json& j, const char* key, T& out, const std::string& where) {
  if (!j.contains(key)) return;
  const nlohmann::json& v = j.at(key);
  // nlohmann converts a float to int by a cast, undefined out of range (fuzz_model_card found
  // 6.4e52): integers must be integers, and fit.
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (!v.is_number_integer() ||
        (v.is_number_unsigned() ? v.get<uint64_t>() > uint64_t(std::numeric_limits<T>::max())
                                : v.get<int64_t>() < int64_t(std::numeric_limits<T>::min()) ||
                                      v.get<int64_t>() > int64_t(std::numeric_limits<T>::max())))
      throw std::runtime_error("model card: field '" + where + key + "' must be an integer in [" +
                               std::to_string(std::numeric_limits<T>::min()) + ", " +
                               std::to_string(std::numeric_limits<T>::max()) + "]");
  }
  try {
    out = v.get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("model card: field '" + where + key + "' has the wrong type (" +
                             j.at(key).type_name() + ")");
  }
}

// A choice spelled as its enum's table does (generator_options.h).
template <typename E>
E require_choice(const std::string& value, const char* key) {
  if (auto v = enum_from_string<E>(value)) return *v;
  throw std::runtime_error(std::string("model card: field '") + key + "' is '" + value +
                           "'; expected one of: " + enum_choices<E>(", "));
}

}  // namespace

ModelCard ModelCard::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::runtime_error("model card: expected a JSON object");
  ModelCard card;
  read_field(j, "name", card.name, "");
  read_field(j, "card_version", card.card_version, "");
  read_field(j, "resolution", card.resolution, "");
  std::string conditioning = enum_name(card.conditioning), upsample = enum_name(card.upsample),
              output = enum_name(card.output);
  read_field(j, "conditioning", conditioning, "");
  read_field(j, "upsample", upsample, "");
  read_field(j, "norm", card.norm, "");
  read_field(j, "output", output, "");
  read_field(j, "width", card.width, "");
  read_field(j, "blocks", card.blocks, "");
  read_field(j, "chroma_grid", card.chroma_grid, "");
  read_field(j, "desaturation_map", card.desaturation_map, "");
  read_field(j, "licence", card.licence, "");
  read_field(j, "notes", card.notes, "");
  if (j.contains("training")) card.training = j.at("training");
  if (j.contains("metrics")) card.metrics = j.at("metrics");

  if (card.card_version != 1)
    throw std::runtime_error("model card: field 'card_version' is " +
                             std::to_string(card.card_version) + "; this build reads version 1");
  if (!j.contains("conditions") || !j.at("conditions").is_array() || j.at("conditions").empty())
    throw std::runtime_error("model card: field 'conditions' must be a non-empty array");
  const auto& conds = j.at("conditions");
  for (size_t i = 0; i < conds.size(); ++i) {
    const std::string where = "conditions[" + std::to_string(i) + "].";
    if (!conds[i].is_object())
      throw std::runtime_error("model card: field '" + where.substr(0, where.size() - 1) +
                               "' must be an object");
    Condition c;
    c.id = -1;
    read_field(conds[i], "id", c.id, where);
    read_field(conds[i], "task", c.task, where);
    std::string direction;  // required: a card without one is refused
    read_field(conds[i], "direction", direction, where);
    read_field(conds[i], "from", c.from, where);
    read_field(conds[i], "to", c.to, where);
    read_field(conds[i], "scale", c.scale, where);
    read_field(conds[i], "change_blur", c.change_blur, where);
    if (c.id != static_cast<int>(i))
      throw std::runtime_error("model card: field '" + where + "id' must be " + std::to_string(i) +
                               " (ids are the generator's condition indices, in order)");
    if (c.task.empty()) throw std::runtime_error("model card: field '" + where + "task' is empty");
    c.direction = require_choice<Direction>(direction, "direction");
    if (!(c.scale > 0.0 && c.scale <= kMaxConditionScale))  // NaN fails too
      throw std::runtime_error("model card: field '" + where + "scale' is " +
                               nlohmann::json(c.scale).dump() + "; it must be in (0, " +
                               nlohmann::json(kMaxConditionScale).dump() + "]");
    if (c.change_blur < 0 || c.change_blur > kMaxChangeBlur)
      throw std::runtime_error("model card: field '" + where + "change_blur' is " +
                               std::to_string(c.change_blur) + "; it must be in [0, " +
                               std::to_string(kMaxChangeBlur) + "] (passes of a 3x3 blur)");
    card.conditions.push_back(c);
  }
  card.conditioning = require_choice<Conditioning>(conditioning, "conditioning");
  card.upsample = require_choice<Upsampling>(upsample, "upsample");
  card.output = require_choice<Output>(output, "output");
  if (card.resolution < 4 || card.resolution % 4 != 0)
    throw std::runtime_error("model card: field 'resolution' is " +
                             std::to_string(card.resolution) +
                             "; it must be a positive multiple of 4");
  if (card.width < 1) throw std::runtime_error("model card: field 'width' must be positive");
  if (card.blocks < 0) throw std::runtime_error("model card: field 'blocks' must be >= 0");
  if (card.chroma_grid < 0 || card.chroma_grid > card.resolution)
    throw std::runtime_error("model card: field 'chroma_grid' must be in [0, resolution]");
  if (card.chroma_grid > 0 && card.output != Output::kResidual)
    throw std::runtime_error("model card: field 'chroma_grid' needs output 'residual'");
  if (card.desaturation_map && card.output != Output::kResidual)
    throw std::runtime_error("model card: field 'desaturation_map' needs output 'residual'");
  return card;
}

}  // namespace fc
