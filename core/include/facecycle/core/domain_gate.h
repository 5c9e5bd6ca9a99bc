// The domain gate: a small classifier shipped beside a model (NAME.gate.safetensors) that
// reads, for each task, how likely a face is already in the task's B domain (50-59, Black).
// The generate stages leave a face alone when it already reads as the direction's target, so
// `--task race` no longer darkens a face that is already Black in a group photo. It was
// trained on real faces only and takes no part in the generator's training.
// Include only from translation units that use torch.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "facecycle/core/gate_spec.h"

namespace fc {

// 4 stride-2 convs with batch norm and leaky ReLU, global average pool, one logit per task:
// log-odds of the B domain.
class DomainGateImpl : public torch::nn::Module {
 public:
  explicit DomainGateImpl(const GateSpec& spec);
  // x: [N,3,H,W] RGB in [-1,1], any H and W. Returns [N, tasks] logits.
  torch::Tensor forward(const torch::Tensor& x);
  const GateSpec& spec() const { return spec_; }
  // What training measured on held-out faces (GateSpec::heldout_json), saved with the gate.
  void record_heldout(const std::string& json) { spec_.heldout_json = json; }

 private:
  GateSpec spec_;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Linear head_{nullptr};
};
TORCH_MODULE(DomainGate);

// Writes the weights and the spec (in the file's metadata) through a temporary name.
void save_gate(const std::string& path, DomainGate& gate);
// Throws std::runtime_error naming the file when it is not a gate this build reads.
DomainGate load_gate(const std::string& path);

// P(face is in the target of `task` in this direction) for x [N,3,H,W] in [-1,1]: the B
// domain's probability forward, the A domain's in reverse. Eval mode, no grad.
torch::Tensor target_probability(DomainGate& gate, const torch::Tensor& x, int task_index,
                                 bool reverse);

}  // namespace fc
