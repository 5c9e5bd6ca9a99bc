// How much of an edit's brightness change is drawn at the scale of blotches. v30 and v32 were
// read older by both outside age judges and looked dirty at 100 %: dark patches a few cells wide
// on cheeks and foreheads, which neither the texture spectrum (which compares outputs with real
// photos, high band only) nor the cycle error sees. This measures the change itself.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace fc::train {

// Below this size the two blurs span the whole face: there is no patch scale to measure.
constexpr int64_t kPatchShareMinSize = 16;

// source, edited: [N,3,S,S] float RGB in [-1,1], the same shape, S >= kPatchShareMinSize. The
// luminance change edited - source is split by two box blurs whose widths follow S (5 and 21 pixels
// at 128 px): finer than the small one are lines and texture, wider than the large one are shades
// over the face. Returns the mean absolute part between them over the mean absolute change, from 0
// (a shade, or no change) towards 1 (all patches). fc-eval's 64 held-out 20s faces, aged, rank the
// models as their sheets look: v33 0.25, v11 0.26, v29 0.28, v31 0.29 (clean), v30 0.33, v32 0.40
// (the blotchiest). The ageing itself (folds, eye bags) lies in this band too, so compare models on
// one task, beside their judged ages, not against a fixed bound.
double patch_share(const torch::Tensor& source, const torch::Tensor& edited);

}  // namespace fc::train
