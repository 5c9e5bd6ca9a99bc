#include "facecycle/core/domain_gate.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "facecycle/core/networks.h"
#include "facecycle/core/safetensors.h"

namespace fc {

namespace {

namespace nn = torch::nn;
using nlohmann::json;

constexpr const char* kGateFormat = "facecycle-domain-gate-1";

json spec_json(const GateSpec& s) {
  json tasks = json::array();
  for (const auto& t : s.tasks)
    tasks.push_back({{"task", t.task}, {"a", t.a_name}, {"b", t.b_name}});
  return {{"size", s.size},
          {"width", s.width},
          {"tasks", tasks},
          {"skip_at", s.skip_at},
          {"heldout", json::parse(s.heldout_json, nullptr, false)}};
}

GateSpec spec_from_json(const json& j) {
  GateSpec s;
  s.size = j.at("size").get<int>();
  s.width = j.at("width").get<int>();
  s.skip_at = j.at("skip_at").get<double>();
  for (const auto& t : j.at("tasks")) s.tasks.push_back({t.at("task"), t.at("a"), t.at("b")});
  s.heldout_json = j.value("heldout", json::object()).dump();
  if (s.size < 16 || s.size > 512 || s.width < 1 || s.width > 256 || s.tasks.empty() ||
      !(s.skip_at > 0.5 && s.skip_at <= 1.0))
    throw std::invalid_argument("gate spec out of range: " + j.dump());
  return s;
}

}  // namespace

int GateSpec::task_index(const std::string& task) const {
  for (size_t i = 0; i < tasks.size(); ++i)
    if (tasks[i].task == task) return static_cast<int>(i);
  return -1;
}

DomainGateImpl::DomainGateImpl(const GateSpec& spec) : spec_(spec) {
  features_ = register_module("features", strided_classifier_trunk(spec.width));
  head_ =
      register_module("head", nn::Linear(spec.width << 3, static_cast<int64_t>(spec.tasks.size())));
}

torch::Tensor DomainGateImpl::forward(const torch::Tensor& x) {
  return head_(features_->forward(resize_square(x, spec_.size)));
}

std::string gate_path_for(const std::string& model_path) {
  std::filesystem::path p(model_path);
  return (p.parent_path() / (p.stem().string() + ".gate.safetensors")).string();
}

void save_gate(const std::string& path, DomainGate& gate) {
  NamedTensors tensors;
  // Half precision halves the file (it travels with the tree to GPU hosts, docs/GPU.md); a
  // classifier's decisions do not need more. load_gate casts back to float.
  const auto stored = [](const torch::Tensor& t) {
    return t.is_floating_point() ? t.detach().to(torch::kHalf) : t.detach();
  };
  for (const auto& p : gate->named_parameters()) tensors.emplace_back(p.key(), stored(p.value()));
  for (const auto& b : gate->named_buffers()) tensors.emplace_back(b.key(), stored(b.value()));
  const std::string tmp = path + ".tmp";
  write_safetensors(tmp, tensors,
                    {{"format", kGateFormat}, {"gate", spec_json(gate->spec()).dump()}});
  std::filesystem::rename(tmp, path);
}

DomainGate load_gate(const std::string& path) {
  std::map<std::string, std::string> meta;
  NamedTensors tensors;
  GateSpec spec;
  try {
    tensors = read_safetensors(path, &meta);
    if (meta["format"] != kGateFormat)
      throw std::runtime_error("not a domain gate (format '" + meta["format"] + "')");
    spec = spec_from_json(json::parse(meta.at("gate")));
  } catch (const std::exception& e) {
    throw std::runtime_error("domain gate " + path + ": " + e.what());
  }
  DomainGate gate(spec);
  std::map<std::string, torch::Tensor> by_name(tensors.begin(), tensors.end());
  torch::NoGradGuard no_grad;
  auto take = [&](const std::string& name, torch::Tensor& into) {
    auto it = by_name.find(name);
    if (it == by_name.end() || it->second.sizes() != into.sizes())
      throw std::runtime_error("domain gate " + path + ": tensor " + name +
                               " is missing or of another shape");
    into.copy_(it->second);
  };
  for (auto& p : gate->named_parameters()) take(p.key(), p.value());
  for (auto& b : gate->named_buffers()) take(b.key(), b.value());
  gate->eval();
  return gate;
}

torch::Tensor target_probability(DomainGate& gate, const torch::Tensor& x, int task_index,
                                 bool reverse) {
  if (task_index < 0 || task_index >= static_cast<int>(gate->spec().tasks.size()))
    throw std::invalid_argument("target_probability: no such gate task");
  torch::NoGradGuard no_grad;
  gate->eval();
  const torch::Tensor p_b =
      torch::sigmoid(gate->forward(x.to(torch::kFloat32)).select(1, task_index));
  return reverse ? 1.0 - p_b : p_b;
}

}  // namespace fc
