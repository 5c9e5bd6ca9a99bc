// Trains the domain gate (facecycle/core/domain_gate.h) on a training config's real faces: for
// each task, its A and B domains from the training split, balanced, with flips and light and
// contrast jitter so that the photo's exposure is not the cue. The held-out split measures
// what the gate's threshold does to each direction.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "facecycle/core/domain_gate.h"
#include "train_config.h"

namespace fc::train {

struct GateTrainOptions {
  int size = 64;
  int width = 8;
  int steps = 1500;
  int batch = 32;  // faces a domain a step
  double lr = 1e-3;
  double skip_at = 0.9;
  int threads = 2;                 // decoding threads
  int max_images = 0;              // cap on each domain's training faces decoded (0: all)
  std::vector<std::string> tasks;  // the config's tasks to gate (empty: all)
};

// Returns the trained gate; its spec's heldout_json holds, per task, the held-out counts and,
// per direction, the fractions of source faces the threshold would skip (wrongly) and of
// target faces it would skip (rightly), and the accuracy at 0.5. `progress` gets (step, loss).
DomainGate train_gate(const TrainConfig& config, const std::string& data_dir,
                      const GateTrainOptions& options,
                      std::function<void(int, double)> progress = nullptr);

}  // namespace fc::train
