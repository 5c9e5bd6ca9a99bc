// What a model's domain gate (domain_gate.h) is, without its weights or LibTorch: the file
// beside the model, its tasks and its threshold. The daemon lists it with the model; the gate
// itself is read by the translator.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace fc {

inline constexpr const char* kGateFormat = "facecycle-domain-gate-1";

struct GateTask {
  std::string task;            // "age", "race"
  std::string a_name, b_name;  // "20-29", "50-59"
};

struct GateSpec {
  int size = 64;  // input side; faces are resized to it
  int width = 8;  // channels of the first conv layer
  std::vector<GateTask> tasks;
  // A face whose probability of being in the direction's target domain is at least this is
  // left unedited (measured on held-out faces; docs/MODEL.md, "The domain gate").
  double skip_at = 0.9;
  std::string heldout_json = "{}";                // what the training measured, for cards and docs
  int task_index(const std::string& task) const;  // -1 when the gate has no such task
};

std::string gate_path_for(const std::string& model_path);  // NAME.pt -> NAME.gate.safetensors

// The spec as the gate file's metadata holds it, and back; the reader throws
// std::invalid_argument for a spec out of range.
nlohmann::json gate_spec_json(const GateSpec& spec);
GateSpec gate_spec_from_json(const nlohmann::json& j);
// The spec from a gate file's metadata; throws when the file is not a gate (its "format").
GateSpec gate_spec_from_metadata(const std::map<std::string, std::string>& meta);

// The spec of the gate beside the model at `model_path`; nullopt when there is none. Throws
// std::runtime_error naming the file when it is there and not a gate this build reads.
std::optional<GateSpec> read_gate_spec(const std::string& model_path);

}  // namespace fc
