// The training job's settings, parsed from TOML. No torch types.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "data/domains.h"
#include "facecycle/core/device_choice.h"
#include "facecycle/core/generator_options.h"
#include "train_choices.h"

namespace fc::train {

// One image-to-image task: two domains (a, b) cut out of the labelled faces by label filters.
struct TaskConfig {
  std::string name;     // "age", "race"
  TaskDomains domains;  // label filters a, b, restrict and the domain names
  // What the task edits (`kind`). A race task's a and b each name one race, which the judge
  // reads as race_a() and race_b().
  TaskKind kind = TaskKind::kAge;
  double weight = 1.0;  // fixed balancing weight
  // Weight of the colour-shift penalty on this task's fakes (cycle_losses.h: colour_shift_loss);
  // for tasks whose attribute is not a colour, such as age. 0 = off.
  double keep_colour = 0.0;
  // Weight of the penalty on the high-frequency part of each fake's change (cycle_losses.h:
  // change_detail_loss), against drawn stripes and blotches. 0 = off.
  double smooth_change = 0.0;
  int smooth_radius = 1;  // change_detail_loss's blur radius: 1 (3x3) at 64 px, 2 at 128 px
  // Weight of the local tint penalty (cycle_losses.h: local_tint_loss) on patches of 1/16 of the
  // face's side. 0 = off.
  double keep_local_colour = 0.0;
  // This task's [losses] weights. A key in [tasks.NAME] overrides [losses] for this task only:
  // tone is a real race cue but only a tint for age, so the two may want different classifiers.
  double lambda_cycle = 10.0;
  double lambda_cls = 0.0;  // 0: no domain classifier for this task
  ClassifierInput cls_input = ClassifierInput::kColour;
  // The classifier sees images average-pooled by this factor (cycle_losses.h: domain_cls_loss);
  // 1 = the training size. A key of [tasks.NAME] only.
  int cls_downsample = 1;
  // The classifier's strength (keys of [tasks.NAME] only). On the CPU the age classifier came to
  // be surer of the fakes' target ages than of real faces' ages (docs/MODEL.md, v37/v38), so it
  // stopped asking more of the generator; these let it separate real faces better (v39 tried
  // 3 steps at 2x the rate: more shading, not more outside-judged age; docs/MODEL.md).
  int cls_width = 0;          // its channels; 0: as the discriminators ([discriminator] width)
  double cls_lr_scale = 1.0;  // its learning rate against [optimizer] lr (decayed alike)
  int cls_steps = 1;          // its updates per step; each one past the first on fresh real faces
  // Weight of the penalty on the change of the face's local shading pattern (cycle_losses.h:
  // shape_change_loss): a new tone or an even lightening costs nothing, drawn dark sockets and
  // harsh brows do. 0 = off.
  double keep_shape = 0.0;
  // Which directions keep_shape prices; each priced direction costs keep_shape / 2 per unit of
  // shape_change_loss whichever is chosen, so that one side alone carries the price it has in
  // "both".
  ShapeSides keep_shape_on = ShapeSides::kBoth;
  // > 0: this task's edit is held, not trained: G is pulled toward the warm start's output on the
  // task's faces (an L1 between the two generators, weighted by hold; "learning without
  // forgetting", Li and Hoiem 2016). Every other task's G step carries that pull, and this task's
  // own steps (weight > 0) are the pull alone, with its critics and classifier at rest. The shared
  // weights may then learn the other tasks while this task's edit stays the warm start's.
  double hold = 0.0;

  // The classifier's channels, given the discriminators' (cls_width 0 means theirs).
  int classifier_width(int discriminator_width) const {
    return cls_width > 0 ? cls_width : discriminator_width;
  }

  int race_a() const { return domains.a.races.at(0); }
  int race_b() const { return domains.b.races.at(0); }
};

// One progressive stage: images of `size` pixels, `steps` optimiser steps of `batch` pairs.
struct StageConfig {
  int size = 64;
  int steps = 1000;
  int batch = 4;
};

struct TrainConfig {
  // what people call the run (facecycle runs, the dashboard); --name/--tag win over these
  std::string run_name;
  std::vector<std::string> tags;

  // data
  std::string data_dir;    // UTKFace-style folder; relative paths are relative to the config
  bool synthetic = false;  // generate synthetic faces into the job dir instead
  int synthetic_n = 2000;
  uint64_t synthetic_seed = 1;
  uint64_t seed = 1;
  double heldout_fraction = 0.1;
  bool augment = true;
  int loader_workers = 2;

  std::vector<TaskConfig> tasks;

  // networks
  int g_width = 32;
  int g_blocks = 6;
  Conditioning conditioning = Conditioning::kCondInstanceNorm;
  Upsampling upsample = Upsampling::kResizeConv;
  bool upsample_given = false;     // set in the file: a warm start switches to it
  Output output = Output::kImage;  // warm starts convert image to residual
  int chroma_grid = 0;             // 0 = off; a warm start takes the config's (residual only)
  bool desaturation_map = false;   // a warm start adds it (residual only); it is never removed
  // Decay of an exponential moving average of G's weights, which is what checkpoints evaluate
  // and the model file holds (0: off, the raw weights). GAN generators swing from step to step;
  // the average keeps what they share (Karras et al., used by stargan-v2 at 0.999).
  double g_ema = 0.0;
  GeneratorTraining g_train = GeneratorTraining::kAll;  // [generator] train
  int d_width = 64;
  // A second PatchGAN per direction with this many stride-2 layers (0: none). At 64 px the main
  // one sees the whole face (70 px field), so it judges shape and shading; a 1-layer one sees
  // 16 px patches (an eye corner, a cheek) and asks for the texture there: wrinkles, stubble,
  // pores (pix2pixHD's multi-scale idea, turned towards smaller fields).
  int d_local_layers = 0;
  double lambda_local = 1.0;  // weight of the local adversarial term against lambda_gan's

  // losses
  LossPreset loss_preset = LossPreset::kPaper;
  double lambda_cycle = 10.0;
  double lambda_identity = 5.0;  // absolute weight of the identity L1 (paper: 0.5 x cycle)
  double lambda_gan = 1.0;
  double cycle_noise = 0.0;  // std of the noise on fakes before reconstruction (cycle_losses.h)
  double d_source_negatives = 0.0;  // weight of real source faces as D negatives (cycle_losses.h)
  double lambda_cls = 0.0;          // StarGAN domain classification of the fakes (cycle_losses.h)
  ClassifierInput cls_input = ClassifierInput::kColour;

  // optimiser
  double lr = 2e-4;
  double beta1 = 0.5;
  double beta2 = 0.999;
  double decay_fraction = 0.5;  // lr decays linearly to 0 over this last fraction of all steps
  int pool_size = 50;
  // The first steps of a run train only the discriminators and classifiers. A warm start brings
  // a trained G but fresh critics, whose early, uninformed gradients shrank the edit (v15).
  long d_warmup_steps = 0;

  // balancing
  BalanceMode balance_mode = BalanceMode::kFixed;
  double adaptive_ema = 0.95;       // smoothing of the per-task losses the adaptive mode reads
  double adaptive_min_share = 0.2;  // no task gets less than this share of the steps

  std::vector<StageConfig> stages;

  // checkpoints
  int checkpoint_every = 500;
  int keep_last = 3;

  // evaluation
  bool eval_enabled = true;
  int judge_steps = 300;    // steps to train the attribute judge (first phase of the job)
  int judge_width = 16;     // channels of the judge's first conv
  int judge_images = 6000;  // training images the judge decodes into memory (0: all)
  std::string judge_path;   // load a trained judge instead
  int eval_faces = 64;      // held-out faces per domain for the evaluation
  int sample_faces = 4;     // held-out faces on the sample sheet

  // data parallel ([distributed], data_parallel.h): this many worker processes, each training
  // on its own slice of every batch, so a step sees workers x stages.batch pairs. 1: one
  // process and no c10d at all.
  int workers = 1;
  DistBackend dist_backend = DistBackend::kGloo;
  int dist_timeout_s = 60;  // a collective that waits longer (a hung peer) fails the job

  int threads = 2;
  // bf16 runs the forward passes under CPU autocast (weights, gradients and Adam stay fp32);
  // about 1.7x faster on AVX512-BF16 CPUs (docs/BENCHMARKS.md).
  Precision precision = Precision::kFp32;
  // Where the networks train: cpu, or cuda on a CUDA LibTorch (docs/GPU.md); never kAuto, which
  // the config refuses. The judge, data loading and pictures stay on the CPU; bf16 then means
  // CUDA autocast.
  fc::DeviceChoice device = fc::DeviceChoice::kCpu;
  std::string warm_start;  // a model .pt to start the generator from
  std::string model_name = "facecycle";
  int log_every = 1;  // emit per-step metrics every N steps

  int total_steps() const;
  // The generator these settings build, with one condition per task direction.
  GeneratorOptions generator_options() const;
};

// Parses and validates; throws std::invalid_argument naming the key, e.g.
// "stages[2].size: 50 is not divisible by 4". `origin` prefixes messages (the config's path).
TrainConfig parse_train_config(const std::string& toml_text, const std::string& origin = "");

}  // namespace fc::train
