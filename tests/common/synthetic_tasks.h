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

}  // namespace fcd_test
