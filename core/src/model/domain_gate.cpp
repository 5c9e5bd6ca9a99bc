#include "facecycle/core/domain_gate.h"

#include <filesystem>
#include <stdexcept>

#include "facecycle/core/networks.h"
#include "facecycle/core/safetensors.h"

namespace fc {

namespace {

namespace nn = torch::nn;

}  // namespace

DomainGateImpl::DomainGateImpl(const GateSpec& spec) : spec_(spec) {
  features_ = register_module("features", strided_classifier_trunk(spec.width));
  head_ =
      register_module("head", nn::Linear(spec.width << 3, static_cast<int64_t>(spec.tasks.size())));
}

torch::Tensor DomainGateImpl::forward(const torch::Tensor& x) {
  return head_(features_->forward(resize_square(x, spec_.size)));
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
                    {{"format", kGateFormat}, {"gate", gate_spec_json(gate->spec()).dump()}});
  std::filesystem::rename(tmp, path);
}

DomainGate load_gate(const std::string& path) {
  std::map<std::string, std::string> meta;
  NamedTensors tensors;
  GateSpec spec;
  try {
    tensors = read_safetensors(path, &meta);
    spec = gate_spec_from_metadata(meta);
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
