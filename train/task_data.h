// A task's faces and condition ids: fixed for the run by the config and the data. No torch.
#pragma once

#include <vector>

#include "data/utkface.h"
#include "train_config.h"

namespace fc::train {

struct TaskData {
  TaskConfig cfg;
  int cond_AB = 0;  // the generator's condition for A -> B (G_A)
  int cond_BA = 1;  // and for B -> A (G_B)
  std::vector<FaceRecord> train_a, train_b, held_a, held_b;
};

}  // namespace fc::train
