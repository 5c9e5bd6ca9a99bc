// NAME.pt + NAME.card.json. The .pt is written as safetensors (one entry per parameter/buffer
// name), which LibTorch 1.13 and 2.x both read through our own reader; flat torch::save archives
// from before are still read. The name stays .pt: the registry and clients find models by it.
#include "facecycle/core/model_file.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

#include "facecycle/core/safetensors.h"

namespace fc {

std::string card_path_for(const std::string& model_path) {
  const std::string ext = ".pt";
  if (model_path.size() > ext.size() &&
      model_path.compare(model_path.size() - ext.size(), ext.size(), ext) == 0)
    return model_path.substr(0, model_path.size() - ext.size()) + ".card.json";
  return model_path + ".card.json";
}

namespace {

std::string temp_name(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}

void rename_into_place(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    std::remove(from.c_str());
    throw std::runtime_error("could not rename " + from + " to " + to);
  }
}

std::string shape_str(const torch::Tensor& t) { return c10::str(t.sizes()); }

// Explains a shape mismatch in the card's terms where it can.
std::string explain_mismatch(const std::string& key, const torch::Tensor& expected,
                             const torch::Tensor& got, const ModelCard& card,
                             const std::string& path) {
  std::ostringstream os;
  os << "model " << path << " does not match its card: tensor '" << key << "' has shape "
     << shape_str(got) << " in the weights but the card implies " << shape_str(expected);
  if (key == "head.weight" && got.dim() == 4) {
    if (got.size(0) != expected.size(0))
      os << " (card says width " << card.width << " but weights have " << got.size(0)
         << " channels)";
    if (got.size(1) != expected.size(1))
      os << " (card says conditioning '" << enum_name(card.conditioning)
         << "' but the weights take " << got.size(1) << " input channels)";
  } else if (key.find("embed.weight") != std::string::npos && got.dim() == 2 &&
             got.size(0) != expected.size(0)) {
    os << " (card lists " << card.conditions.size() << " conditions but weights have "
       << got.size(0) << ")";
  }
  os << "; use the card written with these weights";
  return os.str();
}

// The weights of a model file, either layout: safetensors, or a flat torch::save archive (the
// files written before safetensors; LibTorch versions may not read each other's archives).
class WeightsSource {
 public:
  explicit WeightsSource(const std::string& path) {
    try {
      if (looks_like_safetensors(path)) {
        for (auto& [k, t] : read_safetensors(path)) tensors_[k] = t;
        return;
      }
      archive_ = std::make_unique<torch::serialize::InputArchive>();
      archive_->load_from(path);
    } catch (const c10::Error& e) {
      throw std::runtime_error(
          "model file " + path +
          " is neither safetensors nor a readable torch archive: " + e.what_without_backtrace());
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("model file " + path + " is not readable: " + e.what());
    }
  }
  std::vector<std::string> keys() {
    if (archive_) return archive_->keys();
    std::vector<std::string> k;
    for (const auto& kv : tensors_) k.push_back(kv.first);
    return k;
  }
  bool read(const std::string& key, torch::Tensor& t, bool is_buffer) {
    if (archive_) return archive_->try_read(key, t, is_buffer);
    auto it = tensors_.find(key);
    if (it == tensors_.end()) return false;
    t = it->second;
    return true;
  }

 private:
  std::unique_ptr<torch::serialize::InputArchive> archive_;  // (clang rejects optional of it)
  std::map<std::string, torch::Tensor> tensors_;
};

}  // namespace

void save_model(const std::string& model_path, ResnetGenerator& generator, const ModelCard& card) {
  ModelCard full = card;
  full.set_generator(generator->options());
  if (static_cast<int>(full.conditions.size()) != generator->options().num_conditions)
    throw std::invalid_argument("save_model: card lists " + std::to_string(full.conditions.size()) +
                                " conditions but the generator has " +
                                std::to_string(generator->options().num_conditions));
  NamedTensors weights;
  for (const auto& p : generator->named_parameters()) weights.emplace_back(p.key(), p.value());
  for (const auto& b : generator->named_buffers()) weights.emplace_back(b.key(), b.value());
  nlohmann::json card_json = full.to_json();
  card_json["weights_format"] = kWeightsFormat;  // for readers of the card alone

  const std::string card_path = card_path_for(model_path);
  const std::string tmp_pt = temp_name(model_path), tmp_card = temp_name(card_path);
  try {
    write_safetensors(tmp_pt, weights, {{"format", "pt"}, {"model", full.name}});
  } catch (const std::runtime_error& e) {
    std::remove(tmp_pt.c_str());
    throw std::runtime_error("could not write model file " + model_path + ": " + e.what() +
                             " (does its folder exist?)");
  }
  {
    std::ofstream out(tmp_card);
    out << card_json.dump(2) << "\n";
    if (!out) {
      std::remove(tmp_pt.c_str());
      throw std::runtime_error("could not write " + tmp_card);
    }
  }
  rename_into_place(tmp_pt, model_path);
  rename_into_place(tmp_card, card_path);
}

LoadedModel load_model(const std::string& model_path, const torch::Device& device) {
  const std::string card_path = card_path_for(model_path);
  std::ifstream card_in(card_path);
  if (!std::ifstream(model_path))
    throw std::runtime_error("model file " + model_path + " not found");
  if (!card_in)
    throw std::runtime_error("model card " + card_path + " not found; every model file needs " +
                             "its NAME.card.json beside it");
  LoadedModel out;
  try {
    out.card = ModelCard::from_json(nlohmann::json::parse(card_in));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("model card " + card_path + " is not valid JSON: " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + " (in " + card_path + ")");
  }
  out.generator = ResnetGenerator(out.card.generator_options());

  WeightsSource weights(model_path);
  const auto keys = weights.keys();
  std::set<std::string> unused(keys.begin(), keys.end());
  torch::NoGradGuard no_grad;
  auto load_one = [&](const std::string& key, torch::Tensor& target, bool is_buffer) {
    torch::Tensor t;
    if (!weights.read(key, t, is_buffer))
      throw std::runtime_error(
          "model " + model_path + " does not match its card: tensor '" + key +
          "' is missing from the weights (card: width " + std::to_string(out.card.width) +
          ", blocks " + std::to_string(out.card.blocks) + ", conditioning " +
          enum_name(out.card.conditioning) + ", upsample " + enum_name(out.card.upsample) + ")");
    if (!t.sizes().equals(target.sizes()))
      throw std::runtime_error(explain_mismatch(key, target, t, out.card, model_path));
    target.copy_(t);
    unused.erase(key);
  };
  for (auto& p : out.generator->named_parameters()) load_one(p.key(), p.value(), false);
  for (auto& b : out.generator->named_buffers()) load_one(b.key(), b.value(), true);
  if (!unused.empty())
    throw std::runtime_error(
        "model " + model_path + " does not match its card: the weights hold '" + *unused.begin() +
        "' (and " + std::to_string(unused.size() - 1) + " more) that a generator with blocks " +
        std::to_string(out.card.blocks) + " and upsample " + enum_name(out.card.upsample) +
        " does not have");
  out.generator->to(device);
  out.generator->eval();
  return out;
}

}  // namespace fc

namespace fc {

ModelCard write_seeded_model(const std::string& model_path, const GeneratorOptions& options,
                             int resolution, uint64_t seed, const std::string& name) {
  ModelCard card;
  card.conditions = default_conditions();
  card.resolution = resolution;
  card.name = name.empty() ? "seeded-" + std::to_string(seed) : name;
  card.notes = "untrained, deterministically initialised (seed " + std::to_string(seed) +
               "); for tests and demos only";
  card.training = {{"steps", 0}, {"seed", seed}};
  GeneratorOptions o = options;
  o.num_conditions = static_cast<int>(card.conditions.size());
  card.set_generator(o);
  if (resolution < 8 || resolution % 4 != 0)
    throw std::invalid_argument("resolution " + std::to_string(resolution) +
                                " must be a multiple of 4 and at least 8");
  auto g = make_seeded_generator(o, seed);
  save_model(model_path, g, card);
  return card;
}

}  // namespace fc
