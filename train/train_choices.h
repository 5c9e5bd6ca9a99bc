// The trainer's own choices and their spellings in configs and cards (enum_names.h). The
// generator's choices (conditioning, upsample, output, precision) are generator_options.h's.
// No torch.
#pragma once

#include <utility>

#include "facecycle/core/enum_names.h"

namespace fc::train {

// How the balancer splits the steps between tasks (task_balancer.h).
enum class BalanceMode { kFixed, kAdaptive };

// paper: the CycleGAN paper's lambda_cycle = 10. original: 5, the original age/race work's
// trade of cycle consistency for stronger edits (train_config.cpp).
enum class LossPreset { kPaper, kOriginal };

// What the domain classifier sees. kGrey: luminance only (replicated to 3 channels). UTKFace's
// older faces are redder on average, so a colour classifier rewards a red cast as "older"; a grey
// one must find age in shape and texture (wrinkles, grey hair, sagging) instead. kShape:
// luminance with its local brightness and contrast taken out (shape_view in cycle_losses.h), so
// that how dark a face is tells the classifier nothing and a race edit is asked for features
// (nose, lips, hair) rather than tone, which the discriminators already ask for.
enum class ClassifierInput { kColour, kGrey, kShape };

// The attribute a task edits, which the attribute judge reads when evaluating it: the judged
// age, or the probability of the target domain's race.
enum class TaskKind { kAge, kRace };

// The c10d process group of a data-parallel job (data_parallel.h): Gloo for CPU tensors (and
// CUDA ones, slowly), NCCL for CUDA tensors on a LibTorch built with it.
enum class DistBackend { kGloo, kNccl };

// Which of G's weights a run trains. kConditionNorms: only the conditional norms' per-condition
// scales and shifts (the CIN embeddings), so that a task given no steps keeps its edit byte for
// byte (EMA included, v47) while another task's directions are tuned.
enum class GeneratorTraining { kAll, kConditionNorms };

// Which of a task's directions keep_shape prices: both, or only a->b (forward) or b->a
// (reverse). A price on both sides cost White->Black the cues it needed (v53: 81 % -> 56 %) to
// keep the people Black->White lost.
enum class ShapeSides { kBoth, kForward, kReverse };

}  // namespace fc::train

namespace fc {

template <>
struct EnumNames<train::BalanceMode> {
  static constexpr std::pair<train::BalanceMode, const char*> table[] = {
      {train::BalanceMode::kFixed, "fixed"}, {train::BalanceMode::kAdaptive, "adaptive"}};
};
template <>
struct EnumNames<train::LossPreset> {
  static constexpr std::pair<train::LossPreset, const char*> table[] = {
      {train::LossPreset::kPaper, "paper"}, {train::LossPreset::kOriginal, "original"}};
};
template <>
struct EnumNames<train::ClassifierInput> {
  static constexpr std::pair<train::ClassifierInput, const char*> table[] = {
      {train::ClassifierInput::kColour, "colour"},
      {train::ClassifierInput::kGrey, "grey"},
      {train::ClassifierInput::kShape, "shape"}};
};
template <>
struct EnumNames<train::TaskKind> {
  static constexpr std::pair<train::TaskKind, const char*> table[] = {
      {train::TaskKind::kAge, "age"}, {train::TaskKind::kRace, "race"}};
};
template <>
struct EnumNames<train::DistBackend> {
  static constexpr std::pair<train::DistBackend, const char*> table[] = {
      {train::DistBackend::kGloo, "gloo"}, {train::DistBackend::kNccl, "nccl"}};
};
template <>
struct EnumNames<train::GeneratorTraining> {
  static constexpr std::pair<train::GeneratorTraining, const char*> table[] = {
      {train::GeneratorTraining::kAll, "all"},
      {train::GeneratorTraining::kConditionNorms, "condition_norms"}};
};
template <>
struct EnumNames<train::ShapeSides> {
  static constexpr std::pair<train::ShapeSides, const char*> table[] = {
      {train::ShapeSides::kBoth, "both"},
      {train::ShapeSides::kForward, "forward"},
      {train::ShapeSides::kReverse, "reverse"}};
};

}  // namespace fc
