// What a card's condition does to the generator's raw output before it becomes the edit. The
// translator and the trainer's evaluation both go through it, so a model is judged as it ships.
// Include only from translation units that use torch.
#pragma once

#include <torch/torch.h>

namespace fc {

// x + blur(y - x) * scale for x, y: [3,R,R] or [N,3,R,R] images in [-1,1] at the model's
// resolution. `blur` passes of a 3x3 binomial filter (edges replicated) go over the change only:
// one pass leaves none of a two-pixel stripe (2.5 % at 0.45 cycles a pixel) and 90 % of a
// ten-pixel period, and the photo's own detail, which is x, stays whole (Condition::change_blur).
// Returns y itself when there is nothing to do.
torch::Tensor shape_change(const torch::Tensor& x, const torch::Tensor& y, double scale, int blur);

}  // namespace fc
