// The training job: data, judge, networks and stages around train_step.h's
// optimize_parameters, with checkpoints, pictures, evaluation and the model file.
#include "trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <utility>

#include "checkpoint_io.h"
#include "data/domains.h"
#include "data/packed_faces.h"
#include "data/utkface.h"
#include "data_parallel.h"
#include "eval/attribute_judge.h"
#include "facecycle/core/config_paths.h"
#include "facecycle/core/model_file.h"
#if FACECYCLE_HAVE_OPENCV
#include "facecycle/core/synthetic_faces.h"  // data.synthetic draws faces with OpenCV
#endif
#include "facecycle/core/torch_threads.h"
#include "job_evaluation.h"
#include "job_pictures.h"
#include "metrics_csv.h"
#include "progressive_schedule.h"
#include "rank_streams.h"
#include "train_state.h"
#include "train_step.h"
#include "trained_card.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace fc::train {
namespace {

using Clock = std::chrono::steady_clock;

// The daemon checks these paths against its allowed roots with the same rule before we run.
std::string resolve_path(const std::string& p, const TrainRequest& req) {
  return resolve_config_path(p, req.config_path);
}

// Seeds for the per-task, per-side, per-stage loaders: distinct and fixed by the config seed.
uint64_t loader_seed(uint64_t seed, int task, int side, int stage) {
  uint64_t x =
      seed * 0x9E3779B97F4A7C15ULL + 1000003ULL * task + 7919ULL * side + 104729ULL * stage;
  x ^= x >> 31;
  return x * 0xBF58476D1CE4E5B9ULL + 1;
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
}

// The G weights the optimizer moves ([generator] train). The others keep the warm start's and
// need no gradients.
std::vector<torch::Tensor> trained_parameters(ResnetGenerator& G, GeneratorTraining which) {
  if (which == GeneratorTraining::kAll) return G->parameters();
  std::vector<torch::Tensor> out;
  for (auto& p : G->named_parameters()) {
    const bool trained = p.key().find("embed.") != std::string::npos;
    p.value().set_requires_grad(trained);
    if (trained) out.push_back(p.value());
  }
  if (out.empty())
    throw std::invalid_argument(
        "generator.train = \"condition_norms\": G has no conditional norms");
  return out;
}

std::unique_ptr<torch::optim::Adam> make_adam(std::vector<torch::Tensor> params,
                                              const TrainConfig& cfg) {
  return std::make_unique<torch::optim::Adam>(
      params, torch::optim::AdamOptions(cfg.lr).betas({cfg.beta1, cfg.beta2}));
}

std::vector<std::string> paths_of(const std::vector<FaceRecord>& records) {
  std::vector<std::string> p;
  for (auto& r : records) p.push_back(r.path);
  return p;
}

class TrainingRun {
 public:
  TrainingRun(const TrainRequest& req, HostContext& ctx, TrainHooks& hooks,
              const WorkerPlacement& placement = {}, ConfigUse use = ConfigUse::kTrain)
      : req_(req),
        ctx_(ctx),
        hooks_(hooks),
        cfg_(load_request_config(req, use)),
        schedule_(cfg_.stages),
        placement_(placement) {
    // The one place the trainer sets torch's threads: every step, the judge and the
    // evaluations run on this thread.
    use_torch_threads(cfg_.threads);
    device_ = training_device(cfg_);
  }

  void run();
  json evaluate_only(const std::string& model_path);  // no training; see evaluate_model

 private:
  void log(LogLevel l, const std::string& m) {
    if (ctx_.log) ctx_.log(l, m);
  }
  void progress(double f, const std::string& m) {
    if (ctx_.progress) ctx_.progress(f, m);
  }
  void metric(const std::string& name, double v, long step) {
    if (!leads()) return;
    if (hooks_.metric) hooks_.metric(name, v, step);
    if (csv_) csv_->add(name, v, step);
  }
  bool leads() const { return !dp_ || dp_->leads(); }  // writes files and reports
  void join_workers();
  void check_workers_agree();
  void prepare_data();
  void prepare_judge();
  void build_generator();
  ResnetGenerator frozen_copy(const ResnetGenerator& G) const;
  void init_state();
  LoadedModel load_task_model(const std::string& path, const std::string& what) const;
  void enter_stage(int stage, bool reset);
  void build_discriminators(TaskState& t, const TaskConfig& task, int layers);
  void train_step(long step);
  void save_checkpoint();
  bool resume();
  void after_checkpoint();
  json evaluate_at(int size, const std::vector<Condition>& shipped = {});
  int size_at(long steps_done) const { return schedule_.at(std::max(0L, steps_done - 1)).size; }
  void finish();

  const TrainRequest& req_;
  HostContext& ctx_;
  TrainHooks& hooks_;
  TrainConfig cfg_;
  torch::Device device_ = torch::kCPU;  // the networks'; set from cfg_.device
  ProgressiveSchedule schedule_;
  std::string data_dir_;
  std::vector<FaceRecord> train_records_, heldout_records_;
  std::vector<TaskData> tasks_;
  TrainState state_;
  std::unique_ptr<CheckpointIO> ckpt_;
  std::unique_ptr<AttributeJudge> judge_;
  long last_checkpoint_ = -1;
  std::unique_ptr<MetricsCsv> csv_;  // from the first training step (not the judge's)
  WorkerPlacement placement_;
  std::unique_ptr<DataParallel> dp_;  // world_size > 1
  bool stop_agreed_ = false;          // with dp_: some worker was cancelled at the last step
};

// How long the other workers wait while rank 0 alone trains the judge or evaluates.
constexpr std::chrono::seconds kLeaderWork = std::chrono::hours(2);

void TrainingRun::join_workers() {
  const std::string workers = "distributed.workers = " + std::to_string(cfg_.workers);
  if (placement_.world_size == 1 && cfg_.workers > 1)
    throw std::invalid_argument(workers +
                                " needs that many processes: run it with fc-train, which starts "
                                "them (docs/SCALE.md); a daemon's train job is one process");
  if (placement_.world_size != cfg_.workers)
    throw std::invalid_argument(workers + " but this worker was started with --world-size " +
                                std::to_string(placement_.world_size));
  if (placement_.world_size == 1) return;
  dp_ = std::make_unique<DataParallel>(placement_, cfg_.dist_backend,
                                       std::chrono::seconds(cfg_.dist_timeout_s));
  log(LogLevel::kInfo, "data-parallel worker " + std::to_string(placement_.rank) + " of " +
                           std::to_string(placement_.world_size) + " joined at " +
                           placement_.master_addr + ":" + std::to_string(placement_.master_port));
}

// Same step, same weights: every worker read the same checkpoint (or none) and built the same
// networks from the same seed. A worker that did not (another job dir) fails the job here.
void TrainingRun::check_workers_agree() {
  dp_->check_same(double(state_.steps_done),
                  "the step they start from (every worker must see the same job dir)");
  torch::NoGradGuard no_grad;
  double sum = 0;
  for (const auto& p : state_.G->parameters()) sum += p.to(torch::kFloat64).sum().item<double>();
  dp_->check_same(sum, "the generator's starting weights");
}

void TrainingRun::prepare_data() {
  if (cfg_.synthetic) {
    data_dir_ = (fs::path(req_.job_dir) / "synthetic_faces").string();
    const fs::path done = fs::path(data_dir_) / ".complete";
    if (!fs::exists(done)) {
      log(LogLevel::kInfo, "writing " + std::to_string(cfg_.synthetic_n) + " synthetic faces");
      int side = std::max(64, schedule_.stage(schedule_.num_stages() - 1).size);
#if FACECYCLE_HAVE_OPENCV
      write_synthetic_utkface(data_dir_, cfg_.synthetic_n, cfg_.synthetic_seed, side);
#else
      (void)side;  // load_request_config has refused data.synthetic already
#endif
      std::ofstream(done) << "ok\n";
    }
  } else {
    data_dir_ = resolve_path(cfg_.data_dir, req_);
  }
  ScanResult scan = scan_faces(data_dir_);
  if (scan.malformed)
    log(LogLevel::kWarn, std::to_string(scan.malformed) + " files in " + data_dir_ +
                             " have no AGE_GENDER_RACE name and are skipped, e.g. " +
                             scan.malformed_examples.front());
  Split split = split_heldout(scan.records, cfg_.heldout_fraction, cfg_.seed);
  train_records_ = split.train;
  heldout_records_ = split.heldout;
  for (size_t i = 0; i < cfg_.tasks.size(); ++i) {
    TaskData t;
    t.cfg = cfg_.tasks[i];
    t.cond_AB = static_cast<int>(2 * i);
    t.cond_BA = static_cast<int>(2 * i + 1);
    t.train_a = t.cfg.domains.select_a(train_records_);
    t.train_b = t.cfg.domains.select_b(train_records_);
    t.held_a = t.cfg.domains.select_a(heldout_records_);
    t.held_b = t.cfg.domains.select_b(heldout_records_);
    for (auto [side, n] : {std::pair{"a", t.train_a.size()}, std::pair{"b", t.train_b.size()}})
      if (n == 0)
        throw std::invalid_argument("tasks." + t.cfg.name + "." + side + ": no training faces in " +
                                    data_dir_ + " match this filter; widen it or check data.dir");
    log(LogLevel::kInfo, "task " + t.cfg.name + ": " + std::to_string(t.train_a.size()) + " " +
                             t.cfg.domains.a_name + " / " + std::to_string(t.train_b.size()) + " " +
                             t.cfg.domains.b_name + " training faces");
    tasks_.push_back(std::move(t));
  }
}

void TrainingRun::prepare_judge() {
  if (!cfg_.eval_enabled) return;
  const std::string own = (fs::path(req_.job_dir) / "judge.pt").string();
  std::string path = cfg_.judge_path.empty() ? own : resolve_path(cfg_.judge_path, req_);
  if (fs::exists(path)) {
    judge_ = std::make_unique<AttributeJudge>(load_judge(path));
    return;
  }
  progress(0.0, "training the attribute judge");
  JudgeOptions o;
  o.steps = cfg_.judge_steps;
  o.width = cfg_.judge_width;
  o.max_images = cfg_.judge_images;
  o.seed = cfg_.seed;
  o.threads = cfg_.threads;
  judge_ = std::make_unique<AttributeJudge>(
      train_judge(train_records_, heldout_records_, o,
                  [this](std::string n, double v, long s) { metric(n, v, s); }));
  save_judge(*judge_, own);
}

// A model file for this config's tasks (warm start, evaluation); `what` names it in errors.
LoadedModel TrainingRun::load_task_model(const std::string& path, const std::string& what) const {
  LoadedModel m = load_model(path, torch::kCPU);
  const int want = static_cast<int>(2 * cfg_.tasks.size());
  if (m.generator->options().num_conditions != want)
    throw std::invalid_argument(what + ": the model has " +
                                std::to_string(m.generator->options().num_conditions) +
                                " conditions but this config trains " + std::to_string(want));
  return m;
}

// A copy of G's weights in eval mode, on the training device: the EMA's start, the held edit.
ResnetGenerator TrainingRun::frozen_copy(const ResnetGenerator& G) const {
  ResnetGenerator copy(G->options());
  copy->to(device_);
  torch::NoGradGuard no_grad;
  auto dst = copy->parameters();
  auto src = G->parameters();
  for (size_t i = 0; i < dst.size(); ++i) dst[i].copy_(src[i]);
  copy->eval();
  return copy;
}

void TrainingRun::build_generator() {
  const GeneratorOptions o = cfg_.generator_options();
  ResnetGenerator& G = state_.G;
  if (!cfg_.warm_start.empty()) {
    G = load_task_model(resolve_path(cfg_.warm_start, req_), "warm_start").generator;
    log(LogLevel::kInfo, "generator warm-started from " + cfg_.warm_start +
                             " (its width/blocks/conditioning override the config)");
    if (cfg_.upsample_given && o.upsampling != G->options().upsampling) {
      G->set_upsampling(o.upsampling);
      log(LogLevel::kInfo, "warm start switched to upsample = " + enum_name(cfg_.upsample));
    }
    if (o.output == Output::kResidual && G->options().output != Output::kResidual) {
      G->start_residual();
      log(LogLevel::kInfo, "warm start switched to residual output (it starts as the identity)");
    }
    if (o.chroma_grid != G->options().chroma_grid) {
      G->set_chroma_grid(o.chroma_grid);
      log(LogLevel::kInfo, "warm start: chroma_grid = " + std::to_string(o.chroma_grid));
    }
    if (o.desaturation_map && !G->options().desaturation_map) {
      G->add_desaturation_map();
      log(LogLevel::kInfo, "warm start: desaturation map added (it starts as the identity)");
    }
  } else {
    G = make_seeded_generator(o, cfg_.seed);
  }
  G->to(device_);
  G->train();
  if (cfg_.g_ema > 0) state_.G_ema = frozen_copy(G);
  const bool holds = std::any_of(cfg_.tasks.begin(), cfg_.tasks.end(),
                                 [](const TaskConfig& t) { return t.hold > 0; });
  if (holds) {
    state_.G_hold = frozen_copy(G);
    for (auto& p : state_.G_hold->parameters()) p.set_requires_grad(false);
  }
  state_.optG = make_adam(trained_parameters(G, cfg_.g_train), cfg_);
}

// The per-task state, the balancer and the loss recorder; a resume overwrites what they hold.
void TrainingRun::init_state() {
  std::vector<std::string> names;
  std::vector<double> weights;
  for (auto& t : tasks_) {
    names.push_back(t.cfg.name);
    weights.push_back(t.cfg.weight);
  }
  state_.balancer = std::make_unique<TaskBalancer>(names, weights, cfg_.balance_mode,
                                                   cfg_.adaptive_ema, cfg_.adaptive_min_share);
  for (auto& t : tasks_) state_.tasks.emplace_back().name = t.cfg.name;
  state_.losses = LossRecorder(schedule_.total_steps(), cfg_.log_every);
}

// A PatchGAN is fully convolutional, so a kept one keeps what it learned; a deeper one starts
// fresh with a fresh optimiser.
void TrainingRun::build_discriminators(TaskState& t, const TaskConfig& task, int layers) {
  DiscriminatorOptions d;
  d.width = cfg_.d_width;
  d.layers = layers;
  t.D_A = PatchDiscriminator(d);
  t.D_B = PatchDiscriminator(d);
  if (cfg_.d_local_layers > 0) {
    DiscriminatorOptions local = d;
    local.layers = cfg_.d_local_layers;
    t.D_A_local = PatchDiscriminator(local);
    t.D_B_local = PatchDiscriminator(local);
  }
  std::vector<torch::Tensor> params;
  for (PatchDiscriminator* D : {&t.D_A, &t.D_B, &t.D_A_local, &t.D_B_local}) {
    if (!*D) continue;  // no local discriminators
    (*D)->to(device_);
    for (auto& p : (*D)->parameters()) params.push_back(p);
  }
  t.optD = make_adam(params, cfg_);
  t.d_layers = layers;
  if (task.lambda_cls > 0) {
    DiscriminatorOptions c = d;
    c.width = task.classifier_width(d.width);
    t.C = PatchDiscriminator(c);
    t.C->to(device_);
    t.optC = make_adam(t.C->parameters(), cfg_);
  }
}

// Entering a stage: new loaders at the stage's size and batch, pools emptied (their images have
// the old size), and the discriminators rebuilt only when their depth changes with the size.
// G and its optimiser always carry over.
void TrainingRun::enter_stage(int stage, bool reset) {
  const StageConfig& s = schedule_.stage(stage);
  const int layers = patchgan_layers_for_size(s.size);
  for (size_t i = 0; i < tasks_.size(); ++i) {
    TaskState& t = state_.tasks[i];
    if (t.d_layers != layers) build_discriminators(t, cfg_.tasks[i], layers);
    if (!t.pool_fake_A) {  // each data-parallel worker has its own pools
      const uint64_t seed = cfg_.seed + 7919ULL * placement_.rank;
      t.pool_fake_A = std::make_unique<ImagePool>(cfg_.pool_size, loader_seed(seed, i, 2, 0));
      t.pool_fake_B = std::make_unique<ImagePool>(cfg_.pool_size, loader_seed(seed, i, 3, 0));
    }
    if (reset) {
      t.pool_fake_A->clear();
      t.pool_fake_B->clear();
    }
    LoaderOptions lo;
    lo.size = s.size;
    lo.batch = s.batch;
    lo.augment = cfg_.augment;
    lo.workers = cfg_.loader_workers;
    lo.prefetch = 2;
    lo.cache_px = std::max(64, s.size);
    lo.shard = placement_.rank;
    lo.shards = placement_.world_size;
    t.loader_A.reset();
    t.loader_B.reset();
    lo.seed = loader_seed(cfg_.seed, i, 0, stage);
    t.loader_A = std::make_unique<BatchLoader>(paths_of(tasks_[i].train_a), lo);
    lo.seed = loader_seed(cfg_.seed, i, 1, stage);
    t.loader_B = std::make_unique<BatchLoader>(paths_of(tasks_[i].train_b), lo);
  }
  state_.stage = stage;
}

void TrainingRun::train_step(long step) {
  const auto t0 = Clock::now();
  const int ti = state_.balancer->pick();
  TaskState& t = state_.tasks[ti];
  const double lr = cfg_.lr * schedule_.lr_factor(step, cfg_.decay_fraction);
  set_lr(*state_.optG, lr);
  set_lr(*t.optD, lr);
  if (t.optC) set_lr(*t.optC, lr * tasks_[ti].cfg.cls_lr_scale);

  StepSettings settings = step_settings(cfg_, tasks_[ti].cfg);
  settings.data_parallel = dp_.get();
  settings.update_G = step >= cfg_.d_warmup_steps;
  for (size_t i = 0; i < tasks_.size(); ++i)
    if (int(i) != ti && tasks_[i].cfg.hold > 0)
      settings.held.push_back({&state_.tasks[i], &tasks_[i]});
  StepLosses l = optimize_parameters(state_, t, tasks_[ti], settings);
  // Every worker observes the whole batch's losses, so adaptive balancers pick alike.
  if (dp_) stop_agreed_ = dp_->average_losses(l, ti, ctx_.is_cancelled());
  state_.balancer->observe(ti, l.loss_D(), l.adversarial() / std::max(cfg_.lambda_gan, 1e-12));
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  double data_wait_ms = 0;  // every task's: a held task's batches come within another's step
  for (TaskState& ts : state_.tasks) data_wait_ms += std::exchange(ts.data_wait_ms, 0.0);

  const long done = step + 1;
  auto emit = [this](const std::string& n, double v, long s) { metric(n, v, s); };
  state_.losses.record(t.name, done, l, emit);
  if (state_.losses.logs(done)) {
    for (size_t i = 0; i < tasks_.size(); ++i)
      metric(tasks_[i].cfg.name + "/steps", double(state_.balancer->steps()[i]), done);
    metric("step_time_ms", ms, done);
    metric("data_wait_ms", data_wait_ms, done);
    metric("lr", lr, done);
  }
}

// With data-parallel workers, rank 0 writes the one checkpoint, holding the others' pools too.
void TrainingRun::save_checkpoint() {
  const std::string key = "rank_streams/" + std::to_string(state_.steps_done);
  if (dp_ && !dp_->leads()) {
    dp_->send_to_leader(key, save_rank_streams(state_));
  } else {
    const std::vector<std::string> others =
        dp_ ? dp_->collect_at_leader(key) : std::vector<std::string>{};
    ckpt_->save(state_.steps_done, [&](torch::serialize::OutputArchive& a) {
      state_.save(a);
      if (dp_) write_rank_streams(a, others);
    });
  }
  last_checkpoint_ = state_.steps_done;
}

bool TrainingRun::resume() {
  const int stale = leads() ? ckpt_->remove_temp_files() : 0;
  if (stale)
    log(LogLevel::kWarn, "removed " + std::to_string(stale) + " half-written checkpoint(s)");
  torch::serialize::InputArchive a;
  std::string path;
  if (!ckpt_->load_latest(&a, &path, device_)) return false;
  for (auto& t : state_.tasks) t.d_layers = 0;
  enter_stage(TrainState::saved_stage(a), false);
  state_.load(a);
  if (!leads()) {
    if (auto own = read_rank_streams(a, placement_.rank))
      load_rank_streams(state_, *own);
    else
      log(LogLevel::kWarn, "the checkpoint has no pools for worker " +
                               std::to_string(placement_.rank) +
                               " (written by fewer workers): starting from rank 0's");
  }
  last_checkpoint_ = state_.steps_done;
  log(LogLevel::kInfo, "resumed from " + path + " at step " + std::to_string(state_.steps_done));
  return true;
}

json TrainingRun::evaluate_at(int size, const std::vector<Condition>& shipped) {
  if (!judge_) return json::object();
  return evaluate_generator(state_.served(), tasks_, *judge_,
                            {size, cfg_.eval_faces, cfg_.threads, shipped});
}

// Pictures and evaluation after a checkpoint. They must not disturb the training stream, so
// the torch RNG is put back afterwards (a resumed run never ran them before its first step).
void TrainingRun::after_checkpoint() {
  const at::Tensor rng = get_cpu_rng_state();
  const long step = state_.steps_done;
  try {
    write_loss_curves(req_.job_dir, state_.losses.history(), step);
    write_sample_sheet(req_.job_dir, state_.served(), tasks_,
                       {cfg_.sample_faces, size_at(step), cfg_.threads}, step);
  } catch (const std::exception& e) {
    log(LogLevel::kWarn, std::string("could not write loss_curves.png/samples.png: ") + e.what());
  }
  if (judge_) {
    json ev = evaluate_at(size_at(step));
    ev["step"] = step;
    state_.last_eval = ev;
    if (hooks_.result) hooks_.result(json{{"evaluation", ev}}.dump());
    // Flatten numbers into metrics: eval/age/forward/cycle_l1, .../texture/hf_power_ratio ...
    std::function<void(const std::string&, const json&)> flatten = [&](const std::string& name,
                                                                       const json& v) {
      if (v.is_number()) metric(name, v.get<double>(), step);
      if (v.is_object())
        for (auto& [k, child] : v.items()) flatten(name + "/" + k, child);
    };
    flatten("eval", ev.value("tasks", json::object()));
  }
  if (csv_) csv_->flush();
  set_cpu_rng_state(rng);
}

void TrainingRun::finish() {
  fs::create_directories(req_.models_dir);
  const std::string path = (fs::path(req_.models_dir) / (cfg_.model_name + ".pt")).string();
  TrainedRun r{cfg_, req_.config_path, data_dir_, tasks_, state_, schedule_};
  ModelCard card = make_trained_card(r);
  ResnetGenerator G = state_.served();
  save_model(path, G, card);
  log(LogLevel::kInfo, "model written to " + path);
  if (hooks_.model_ready) hooks_.model_ready(path);
  if (hooks_.result)
    hooks_.result(
        json{{"model", path}, {"evaluation", state_.last_eval}, {"training", card.training}}
            .dump());
  progress(1.0, "done: " + path);
}

json TrainingRun::evaluate_only(const std::string& model_path) {
  fs::create_directories(req_.job_dir);
  if (!cfg_.eval_enabled) throw std::invalid_argument("eval.enabled is false in this config");
  prepare_data();
  prepare_judge();
  LoadedModel m = load_task_model(model_path, model_path);
  state_.G = m.generator;
  return evaluate_at(m.card.resolution, m.card.conditions);  // the model as it ships
}

void TrainingRun::run() {
  fs::create_directories(req_.job_dir);
  join_workers();
  if (leads()) {  // rank 0 alone writes the synthetic faces and the judge
    prepare_data();
    prepare_judge();
  }
  if (dp_) {
    dp_->barrier(kLeaderWork);
    if (!leads()) prepare_data();
  }
  torch::manual_seed(cfg_.seed);
  build_generator();
  init_state();
  ckpt_ = std::make_unique<CheckpointIO>((fs::path(req_.job_dir) / "checkpoints").string(),
                                         cfg_.keep_last);
  if (!resume()) enter_stage(0, true);
  if (dp_) check_workers_agree();
  if (leads())
    csv_ = std::make_unique<MetricsCsv>((fs::path(req_.job_dir) / "metrics.csv").string(),
                                        state_.steps_done);

  const long total = schedule_.total_steps();
  for (long step = state_.steps_done; step < total; ++step) {
    if (dp_ ? stop_agreed_ : ctx_.is_cancelled()) {
      if (last_checkpoint_ != state_.steps_done) save_checkpoint();
      if (csv_) csv_->flush();
      if (!ctx_.is_cancelled())  // a data-parallel worker that was not stopped itself
        throw std::runtime_error("another worker was stopped, so this one stopped too at step " +
                                 std::to_string(state_.steps_done) +
                                 " after the checkpoint; run the job again to resume");
      log(LogLevel::kInfo,
          "cancelled at step " + std::to_string(state_.steps_done) + "; checkpoint written");
      return;
    }
    const int stage = schedule_.at(step).stage;
    if (stage != state_.stage) enter_stage(stage, true);
    train_step(step);
    state_.steps_done = step + 1;
    progress(double(state_.steps_done) / total, schedule_.describe(step));
    if (state_.steps_done % cfg_.checkpoint_every == 0 || schedule_.ends_stage(state_.steps_done)) {
      save_checkpoint();
      if (leads()) after_checkpoint();
      if (dp_) dp_->barrier(kLeaderWork);
    }
  }
  if (last_checkpoint_ != state_.steps_done) save_checkpoint();
  if (csv_) csv_->flush();
  if (leads()) finish();
}

}  // namespace

TrainConfig load_request_config(const TrainRequest& req, ConfigUse use) {
  TrainConfig cfg = parse_train_config(req.config_toml, req.config_path);
  // Evaluation runs where it is asked (fc-eval re-derives a GPU run's card on a CPU host);
  // training on a missing GPU is an error.
  if (cfg.device == fc::DeviceChoice::kCuda && !torch::cuda::is_available()) {
    if (use != ConfigUse::kEvaluate)
      throw std::invalid_argument(
          "device: \"cuda\" but this LibTorch sees no CUDA device (a CPU-only build, or no GPU); "
          "use device = \"cpu\"");
    cfg.device = fc::DeviceChoice::kCpu;
  }
#if !FACECYCLE_HAVE_OPENCV
  if (cfg.synthetic)
    throw std::invalid_argument(
        "data.synthetic: this LibTorch-only build cannot draw synthetic faces; give data.dir a "
        "face pack (scripts/pack_utkface.py --faces)");
#endif
  if (!cfg.synthetic) {
    std::string dir = resolve_path(cfg.data_dir, req);
    if (!fs::is_directory(dir) && !is_face_pack(dir))
      throw std::invalid_argument("data.dir: " + dir +
                                  " is neither a folder nor a face pack; point it at UTKFace-style "
                                  "images");
  }
  if (use == ConfigUse::kTrain && !cfg.warm_start.empty() &&
      !fs::exists(resolve_path(cfg.warm_start, req)))
    throw std::invalid_argument("warm_start: " + resolve_path(cfg.warm_start, req) +
                                " does not exist; give a model .pt from `facecycle models`");
  if (!cfg.judge_path.empty() && !fs::exists(resolve_path(cfg.judge_path, req)))
    throw std::invalid_argument("eval.judge_path: " + resolve_path(cfg.judge_path, req) +
                                " does not exist");
  return cfg;
}

void run_training(const TrainRequest& req, HostContext& ctx, TrainHooks& hooks) {
  run_training(req, ctx, hooks, WorkerPlacement{});
}

void run_training(const TrainRequest& req, HostContext& ctx, TrainHooks& hooks,
                  const WorkerPlacement& placement) {
  TrainingRun run(req, ctx, hooks, placement);
  run.run();
}

std::string evaluate_model(const TrainRequest& req, const std::string& model_path, HostContext& ctx,
                           TrainHooks& hooks) {
  TrainingRun run(req, ctx, hooks, WorkerPlacement{}, ConfigUse::kEvaluate);
  return run.evaluate_only(model_path).dump();
}

}  // namespace fc::train
