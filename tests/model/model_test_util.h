// Helpers shared by the model-core tests.
#pragma once

#include <torch/torch.h>

#include "facecycle/core/networks.h"

namespace fc_test {

// Stands in for training: a residual generator's zeroed tail (start_residual) gets random
// weights N(0, std), so that its change is no longer zero.
inline void give_tail_a_change(fc::ResnetGenerator& g, double std) {
  torch::NoGradGuard no_grad;
  for (auto& p : g->named_parameters())
    if (p.key().rfind("tail.", 0) == 0) p.value().normal_(0.0, std);
}

}  // namespace fc_test
