// The synthetic faces and the two tasks (age 20s -> 50s, race White -> Black) that the tests'
// small training configs share; each test adds its own widths, stages and checkpoints.
#pragma once

#include <string>

namespace fcd_test {

// A [data] table of `faces` synthetic faces and the [tasks.age] and [tasks.race] tables.
// `heldout` is written as given (a TOML float).
inline std::string synthetic_two_tasks(int faces = 80, int data_seed = 5,
                                       const std::string& heldout = "0.1") {
  return "[data]\nsynthetic = {n = " + std::to_string(faces) +
         ", seed = " + std::to_string(data_seed) + "}\nheldout_fraction = " + heldout +
         "\nworkers = 1\n"
         "[tasks.age]\na = {age = [20, 29]}\nb = {age = [50, 59]}\n"
         "[tasks.race]\na = {race = [0]}\nb = {race = [1]}\n";
}

// A whole training config on those tasks, small enough to train in seconds: two stages of
// `stage_steps` (16 px, then 32 px, where the discriminators change depth), 8-wide networks, a
// checkpoint every `checkpoint_every` steps (the newest 3 kept), metrics every 5, no evaluation.
// For the tests that kill, pause or move a training midway.
inline std::string tiny_two_stage_training(const std::string& model_name, int stage_steps,
                                           int checkpoint_every) {
  const std::string stage = "steps = " + std::to_string(stage_steps) + "\nbatch = 2\n";
  return "seed = 3\nthreads = 1\nmodel_name = \"" + model_name + "\"\nlog_every = 5\n" +
         synthetic_two_tasks() +
         "[generator]\nwidth = 8\nblocks = 2\n[discriminator]\nwidth = 8\n"
         "[[stages]]\nsize = 16\n" +
         stage + "[[stages]]\nsize = 32\n" + stage +
         "[checkpoint]\nevery = " + std::to_string(checkpoint_every) +
         "\nkeep_last = 3\n[eval]\nenabled = false\n";
}

}  // namespace fcd_test
