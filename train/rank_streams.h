// The parts of a training checkpoint that differ between data-parallel workers: each worker's
// pools of past fakes (their images and RNGs) and torch's RNG. Rank 0's are the checkpoint's
// usual entries (train_state.h); the other workers send theirs to rank 0, which stores them in
// the same checkpoint as "rank_streams/<r>", so one file resumes every worker exactly.
#pragma once

#include <torch/serialize.h>

#include <optional>
#include <string>
#include <vector>

#include "train_state.h"

namespace fc::train {

std::string save_rank_streams(const TrainState& s);
void load_rank_streams(TrainState& s, const std::string& bytes);

// others[r - 1] holds rank r's bytes; the entry also records how many workers wrote it.
void write_rank_streams(torch::serialize::OutputArchive& a, const std::vector<std::string>& others);
// Rank r's bytes, or nothing when the checkpoint was written by fewer workers (or by one).
std::optional<std::string> read_rank_streams(torch::serialize::InputArchive& a, int rank);

}  // namespace fc::train
