// The training loop: data, judge, networks, the per-step update, checkpoints and evaluation.
#include "trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "checkpoint_io.h"
#include "cycle_losses.h"
#include "data/batch_loader.h"
#include "data/domains.h"
#include "data/utkface.h"
#include "eval/attribute_judge.h"
#include "eval/translation_eval.h"
#include "facecycle/core/image_io.h"
#include "facecycle/core/model_file.h"
#include "facecycle/core/networks.h"
#include "facecycle/core/synthetic_faces.h"
#include "image_pool.h"
#include "progressive_schedule.h"
#include "task_balancer.h"
#include "train_plots.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace fc::train {
namespace {

using Clock = std::chrono::steady_clock;

std::string resolve_path(const std::string& p, const TrainRequest& req) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  fs::path base =
      req.config_path.empty() ? fs::current_path() : fs::absolute(req.config_path).parent_path();
  return (base / p).lexically_normal().string();
}

// Seeds for the per-task, per-side, per-stage loaders: distinct and fixed by the config seed.
uint64_t loader_seed(uint64_t seed, int task, int side, int stage) {
  uint64_t x =
      seed * 0x9E3779B97F4A7C15ULL + 1000003ULL * task + 7919ULL * side + 104729ULL * stage;
  x ^= x >> 31;
  return x * 0xBF58476D1CE4E5B9ULL + 1;
}

at::Tensor get_rng_state() { return at::detail::getDefaultCPUGenerator().get_state(); }
void set_rng_state(const at::Tensor& s) {
  at::Generator g = at::detail::getDefaultCPUGenerator();
  g.set_state(s);
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
}

void set_requires_grad(torch::nn::Module& m, bool on) {
  for (auto& p : m.parameters()) p.set_requires_grad(on);
}

// [-1,1] RGB tensor [3,H,W] -> BGR CV_8UC3
cv::Mat to_bgr(const torch::Tensor& t) {
  torch::Tensor u8 = ((t.detach().clamp(-1, 1) + 1) * 127.5)
                         .round()
                         .to(torch::kUInt8)
                         .permute({1, 2, 0})
                         .contiguous();
  cv::Mat rgb(static_cast<int>(u8.size(0)), static_cast<int>(u8.size(1)), CV_8UC3, u8.data_ptr());
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

std::string hardware_description(int threads) {
  return "cpu, " + std::to_string(threads) + " torch threads, " +
         std::to_string(std::thread::hardware_concurrency()) + " cores";
}

struct TaskState {
  TaskConfig cfg;
  int cond_AB = 0, cond_BA = 1;
  std::vector<FaceRecord> train_a, train_b, held_a, held_b;
  PatchDiscriminator D_A{nullptr};  // judges domain B (fake_B vs real_B)
  PatchDiscriminator D_B{nullptr};  // judges domain A
  std::unique_ptr<torch::optim::Adam> optD;
  PatchDiscriminator C{nullptr};  // domain classifier (losses.lambda_cls > 0): logit of "B"
  std::unique_ptr<torch::optim::Adam> optC;
  std::unique_ptr<ImagePool> pool_fake_A, pool_fake_B;
  std::unique_ptr<BatchLoader> loader_A, loader_B;
  int d_layers = 0;
};

class TrainingRun {
 public:
  TrainingRun(const TrainRequest& req, HostContext& ctx, TrainHooks& hooks)
      : req_(req),
        ctx_(ctx),
        hooks_(hooks),
        cfg_(load_request_config(req)),
        schedule_(cfg_.stages) {}

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
    if (hooks_.metric) hooks_.metric(name, v, step);
  }
  void prepare_data();
  void prepare_judge();
  void build_generator();
  LoadedModel load_task_model(const std::string& path, const std::string& what) const;
  void enter_stage(int stage, bool reset);
  void train_step(long step);
  GLoss update_generator(TaskState& t, const torch::Tensor& real_A, const torch::Tensor& real_B,
                         CycleImages* im);
  void update_ema();
  void record_step(const TaskState& t, long done, const GLoss& g, double d_A, double d_B,
                   double loss_C, double lr, double ms);
  ClassifierInput classifier_input() const {
    return cfg_.cls_grey ? ClassifierInput::kGrey : ClassifierInput::kColour;
  }
  // The generator that samples, evaluations and the model file use: the EMA when it is on.
  ResnetGenerator served() const { return G_ema_ ? G_ema_ : G_; }
  void save_checkpoint(long steps_done);
  bool resume();
  void after_checkpoint(long steps_done);
  void write_plots(long steps_done);
  json evaluate(long steps_done);
  json evaluate_at(int size);  // held-out faces at `size` px
  void finish();
  ModelCard make_card() const;
  LossWeights loss_weights() const {
    return {cfg_.lambda_gan,  cfg_.lambda_cycle,       cfg_.lambda_identity,
            cfg_.cycle_noise, cfg_.d_source_negatives, cfg_.lambda_cls};
  }

  const TrainRequest& req_;
  HostContext& ctx_;
  TrainHooks& hooks_;
  TrainConfig cfg_;
  ProgressiveSchedule schedule_;
  std::string data_dir_;
  std::vector<FaceRecord> train_records_, heldout_records_;
  std::vector<TaskState> tasks_;
  std::unique_ptr<TaskBalancer> balancer_;
  std::unique_ptr<CheckpointIO> ckpt_;
  ResnetGenerator G_{nullptr};
  ResnetGenerator G_ema_{nullptr};  // generator.ema > 0
  std::unique_ptr<torch::optim::Adam> optG_;
  std::unique_ptr<AttributeJudge> judge_;
  int stage_ = -1;
  long steps_done_ = 0;
  long last_checkpoint_ = -1;
  double wall_before_s_ = 0;  // wall time of earlier runs of this job
  Clock::time_point started_ = Clock::now();
  LossHistory history_;
  std::map<std::string, std::pair<double, int>> history_acc_;  // running means between points
  json last_eval_ = json::object();
};

void TrainingRun::prepare_data() {
  if (cfg_.synthetic) {
    data_dir_ = (fs::path(req_.job_dir) / "synthetic_faces").string();
    const fs::path done = fs::path(data_dir_) / ".complete";
    if (!fs::exists(done)) {
      log(LogLevel::kInfo, "writing " + std::to_string(cfg_.synthetic_n) + " synthetic faces");
      int side = std::max(64, schedule_.stage(schedule_.num_stages() - 1).size);
      write_synthetic_utkface(data_dir_, cfg_.synthetic_n, cfg_.synthetic_seed, side);
      std::ofstream(done) << "ok\n";
    }
  } else {
    data_dir_ = resolve_path(cfg_.data_dir, req_);
  }
  ScanResult scan = scan_utkface(data_dir_);
  if (scan.malformed)
    log(LogLevel::kWarn, std::to_string(scan.malformed) + " files in " + data_dir_ +
                             " have no AGE_GENDER_RACE name and are skipped, e.g. " +
                             scan.malformed_examples.front());
  Split split = split_heldout(scan.records, cfg_.heldout_fraction, cfg_.seed);
  train_records_ = split.train;
  heldout_records_ = split.heldout;
  for (size_t i = 0; i < cfg_.tasks.size(); ++i) {
    TaskState t;
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
  at::set_num_threads(cfg_.threads);
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

void TrainingRun::build_generator() {
  ModelCard card;
  card.conditioning = cfg_.conditioning;
  card.upsample = cfg_.upsample;
  card.width = cfg_.g_width;
  card.blocks = cfg_.g_blocks;
  card.output = cfg_.output;
  GeneratorOptions o = GeneratorOptions::from_card(card);
  o.num_conditions = static_cast<int>(2 * tasks_.size());
  if (!cfg_.warm_start.empty()) {
    G_ = load_task_model(resolve_path(cfg_.warm_start, req_), "warm_start").generator;
    log(LogLevel::kInfo, "generator warm-started from " + cfg_.warm_start +
                             " (its width/blocks/conditioning override the config)");
    if (cfg_.upsample_given && o.upsampling != G_->options().upsampling) {
      G_->set_upsampling(o.upsampling);
      log(LogLevel::kInfo, "warm start switched to upsample = " + cfg_.upsample);
    }
    if (o.output == Output::kResidual && G_->options().output != Output::kResidual) {
      G_->start_residual();
      log(LogLevel::kInfo, "warm start switched to residual output (it starts as the identity)");
    }
  } else {
    G_ = make_seeded_generator(o, cfg_.seed);
  }
  G_->train();
  if (cfg_.g_ema > 0) {
    G_ema_ = ResnetGenerator(G_->options());
    torch::NoGradGuard no_grad;
    auto dst = G_ema_->parameters();
    auto src = G_->parameters();
    for (size_t i = 0; i < dst.size(); ++i) dst[i].copy_(src[i]);
    G_ema_->eval();
  }
  optG_ = std::make_unique<torch::optim::Adam>(
      G_->parameters(), torch::optim::AdamOptions(cfg_.lr).betas({cfg_.beta1, cfg_.beta2}));
}

// Entering a stage: new loaders at the stage's size and batch, pools emptied (their images have
// the old size), and the discriminators rebuilt only when their depth changes with the size:
// a PatchGAN is fully convolutional, so a kept one keeps what it learned; a deeper one starts
// fresh with a fresh optimiser. G and its optimiser always carry over.
void TrainingRun::enter_stage(int stage, bool reset) {
  const StageConfig& s = schedule_.stage(stage);
  const int layers = patchgan_layers_for_size(s.size);
  for (size_t i = 0; i < tasks_.size(); ++i) {
    TaskState& t = tasks_[i];
    if (t.d_layers != layers) {
      DiscriminatorOptions d;
      d.width = cfg_.d_width;
      d.layers = layers;
      t.D_A = PatchDiscriminator(d);
      t.D_B = PatchDiscriminator(d);
      std::vector<torch::Tensor> params = t.D_A->parameters();
      for (auto& p : t.D_B->parameters()) params.push_back(p);
      t.optD = std::make_unique<torch::optim::Adam>(
          params, torch::optim::AdamOptions(cfg_.lr).betas({cfg_.beta1, cfg_.beta2}));
      t.d_layers = layers;
      if (cfg_.lambda_cls > 0) {
        t.C = PatchDiscriminator(d);
        t.optC = std::make_unique<torch::optim::Adam>(
            t.C->parameters(), torch::optim::AdamOptions(cfg_.lr).betas({cfg_.beta1, cfg_.beta2}));
      }
    }
    if (!t.pool_fake_A) {
      t.pool_fake_A = std::make_unique<ImagePool>(cfg_.pool_size, loader_seed(cfg_.seed, i, 2, 0));
      t.pool_fake_B = std::make_unique<ImagePool>(cfg_.pool_size, loader_seed(cfg_.seed, i, 3, 0));
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
    auto paths = [](const std::vector<FaceRecord>& r) {
      std::vector<std::string> p;
      for (auto& x : r) p.push_back(x.path);
      return p;
    };
    t.loader_A.reset();
    t.loader_B.reset();
    lo.seed = loader_seed(cfg_.seed, i, 0, stage);
    t.loader_A = std::make_unique<BatchLoader>(paths(t.train_a), lo);
    lo.seed = loader_seed(cfg_.seed, i, 1, stage);
    t.loader_B = std::make_unique<BatchLoader>(paths(t.train_b), lo);
  }
  stage_ = stage;
}

// CPU autocast to bf16 for the forward passes of one step (thread-local state).
class Bf16Autocast {
 public:
  explicit Bf16Autocast(bool on) : on_(on) {
    if (!on_) return;
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  }
  ~Bf16Autocast() {
    if (!on_) return;
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
  }

 private:
  bool on_;
};

GLoss TrainingRun::update_generator(TaskState& t, const torch::Tensor& real_A,
                                    const torch::Tensor& real_B, CycleImages* im) {
  // The discriminators and the classifier are frozen so no gradients are spent on them.
  set_requires_grad(*t.D_A, false);
  set_requires_grad(*t.D_B, false);
  if (t.C) set_requires_grad(*t.C, false);
  optG_->zero_grad();
  const bool bf16 = cfg_.precision == "bf16";
  GLoss g = [&] {
    Bf16Autocast autocast(bf16);
    GLoss loss =
        compute_g_loss(G_, t.D_A, t.D_B, real_A, real_B, t.cond_AB, t.cond_BA, loss_weights(), im);
    if (t.cfg.keep_colour > 0) {
      torch::Tensor tint =
          0.5 * (colour_shift_loss(real_A, im->fake_B) + colour_shift_loss(real_B, im->fake_A));
      loss.total = loss.total + tint * t.cfg.keep_colour;
      loss.loss_colour = tint.item<double>() * t.cfg.keep_colour;
    }
    if (t.C) {
      torch::Tensor cls =
          domain_cls_loss(t.C, im->fake_A, im->fake_B, classifier_input()) * cfg_.lambda_cls;
      loss.total = loss.total + cls;
      loss.loss_cls = cls.item<double>();
    }
    return loss;
  }();
  g.total.backward();
  if (bf16) {  // the pools and checkpoints keep fp32 images
    im->fake_A = im->fake_A.to(torch::kFloat);
    im->fake_B = im->fake_B.to(torch::kFloat);
  }
  optG_->step();
  set_requires_grad(*t.D_A, true);
  set_requires_grad(*t.D_B, true);
  if (t.C) set_requires_grad(*t.C, true);
  update_ema();
  return g;
}

void TrainingRun::update_ema() {
  if (!G_ema_) return;
  torch::NoGradGuard no_grad;
  auto dst = G_ema_->parameters();
  auto src = G_->parameters();
  for (size_t i = 0; i < dst.size(); ++i) dst[i].lerp_(src[i], 1.0 - cfg_.g_ema);
}

void TrainingRun::train_step(long step) {
  const auto t0 = Clock::now();
  const int ti = balancer_->pick();
  TaskState& t = tasks_[ti];
  const double lr = cfg_.lr * schedule_.lr_factor(step, cfg_.decay_fraction);
  set_lr(*optG_, lr);
  set_lr(*t.optD, lr);
  if (t.optC) set_lr(*t.optC, lr);

  torch::Tensor real_A = t.loader_A->next();
  torch::Tensor real_B = t.loader_B->next();
  CycleImages im;
  GLoss g = update_generator(t, real_A, real_B, &im);

  // Discriminator update on pooled fakes; the classifier learns from real faces only, so the
  // generator cannot teach it its own shortcuts.
  t.optD->zero_grad();
  if (t.optC) t.optC->zero_grad();
  torch::Tensor loss_D_A, loss_D_B, loss_C;
  {
    Bf16Autocast autocast(cfg_.precision == "bf16");
    const double neg = cfg_.d_source_negatives;
    loss_D_A = compute_d_loss(t.D_A, real_B, t.pool_fake_B->query(im.fake_B), real_A, neg);
    loss_D_B = compute_d_loss(t.D_B, real_A, t.pool_fake_A->query(im.fake_A), real_B, neg);
    if (t.C) loss_C = domain_cls_loss(t.C, real_A, real_B, classifier_input());
  }
  torch::Tensor loss_D_all = loss_D_A + loss_D_B;
  if (loss_C.defined()) loss_D_all = loss_D_all + loss_C;
  loss_D_all.backward();
  t.optD->step();
  if (t.optC) t.optC->step();

  const double d_A = loss_D_A.item<double>(), d_B = loss_D_B.item<double>();
  balancer_->observe(ti, 0.5 * (d_A + d_B), g.adversarial() / std::max(cfg_.lambda_gan, 1e-12));
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  record_step(t, step + 1, g, d_A, d_B, loss_C.defined() ? loss_C.item<double>() : 0.0, lr, ms);
}

// Per-step metrics (every log_every steps) and the running means behind the loss curves.
void TrainingRun::record_step(const TaskState& t, long done, const GLoss& g, double d_A, double d_B,
                              double loss_C, double lr, double ms) {
  const std::string p = t.cfg.name + "/";
  const double loss_G = g.total.item<double>();
  const double loss_D = 0.5 * (d_A + d_B);
  std::vector<std::pair<std::string, double>> points = {
      {p + "loss_G", loss_G},
      {p + "loss_G_A", g.loss_G_A},
      {p + "loss_G_B", g.loss_G_B},
      {p + "loss_cycle_A", g.loss_cycle_A},
      {p + "loss_cycle_B", g.loss_cycle_B},
      {p + "loss_idt_A", g.loss_idt_A},
      {p + "loss_idt_B", g.loss_idt_B},
      {p + "loss_D_A", d_A},
      {p + "loss_D_B", d_B},
      {p + "loss_D", loss_D},
  };
  if (t.cfg.keep_colour > 0) points.push_back({p + "loss_colour", g.loss_colour});
  if (t.C) {
    points.push_back({p + "loss_cls_fake", g.loss_cls});
    points.push_back({p + "loss_cls_real", loss_C});
  }
  if (done % cfg_.log_every == 0 || done == schedule_.total_steps()) {
    for (auto& [n, v] : points) metric(n, v, done);
    for (size_t i = 0; i < tasks_.size(); ++i)
      metric(tasks_[i].cfg.name + "/steps", double(balancer_->steps()[i]), done);
    metric("step_time_ms", ms, done);
    metric("lr", lr, done);
  }
  // Loss curves: running means, one point per ~1/400 of the run.
  const long every = std::max<long>(1, schedule_.total_steps() / 400);
  auto add = [&](const std::string& k, double v) {
    auto& acc = history_acc_[p + k];
    acc.first += v;
    acc.second += 1;
  };
  add("loss_G", loss_G);
  add("loss_D", loss_D);
  add("loss_cycle", g.loss_cycle_A + g.loss_cycle_B);
  if (t.C) add("loss_cls_fake", g.loss_cls);
  if (done % every == 0)
    for (auto& [n, acc] : history_acc_)
      if (acc.second) {
        history_[n].push_back({done, acc.first / acc.second});
        acc = {0.0, 0};
      }
}

void TrainingRun::save_checkpoint(long steps_done) {
  json state;
  state["steps_done"] = steps_done;
  state["stage"] = stage_;
  state["balancer"] = balancer_->state();
  state["wall_s"] = wall_before_s_ + std::chrono::duration<double>(Clock::now() - started_).count();
  json loaders = json::array(), pools = json::array();
  for (auto& t : tasks_) {
    loaders.push_back({t.loader_A->position(), t.loader_B->position()});
    pools.push_back({t.pool_fake_A->rng_state(), t.pool_fake_B->rng_state()});
  }
  state["loaders"] = loaders;
  state["pools"] = pools;
  state["d_layers"] = tasks_.front().d_layers;
  json hist = json::object();
  for (auto& [n, pts] : history_) hist[n] = pts;
  state["history"] = hist;
  json acc = json::object();
  for (auto& [n, a] : history_acc_) acc[n] = {a.first, a.second};
  state["history_acc"] = acc;
  state["last_eval"] = last_eval_;

  ckpt_->save(steps_done, [&](torch::serialize::OutputArchive& a) {
    write_json(a, "state", state);
    a.write("torch_rng", get_rng_state());
    torch::serialize::OutputArchive g, og;
    G_->save(g);
    a.write("G", g);
    optG_->save(og);
    a.write("optG", og);
    if (G_ema_) {
      torch::serialize::OutputArchive ge;
      G_ema_->save(ge);
      a.write("G_ema", ge);
    }
    for (auto& t : tasks_) {
      torch::serialize::OutputArchive da, db, od;
      t.D_A->save(da);
      t.D_B->save(db);
      t.optD->save(od);
      a.write("D_A/" + t.cfg.name, da);
      a.write("D_B/" + t.cfg.name, db);
      a.write("optD/" + t.cfg.name, od);
      if (t.C) {
        torch::serialize::OutputArchive c, oc;
        t.C->save(c);
        t.optC->save(oc);
        a.write("C/" + t.cfg.name, c);
        a.write("optC/" + t.cfg.name, oc);
      }
      a.write("pool_fake_A/" + t.cfg.name, t.pool_fake_A->stacked());
      a.write("pool_fake_B/" + t.cfg.name, t.pool_fake_B->stacked());
    }
  });
  last_checkpoint_ = steps_done;
}

bool TrainingRun::resume() {
  const int stale = ckpt_->remove_temp_files();
  if (stale)
    log(LogLevel::kWarn, "removed " + std::to_string(stale) + " half-written checkpoint(s)");
  torch::serialize::InputArchive a;
  std::string path;
  if (!ckpt_->load_latest(&a, &path)) return false;
  json state = read_json(a, "state");
  steps_done_ = state.at("steps_done").get<long>();
  wall_before_s_ = state.at("wall_s").get<double>();
  balancer_->load_state(state.at("balancer"));
  const int stage = state.at("stage").get<int>();
  for (auto& t : tasks_) t.d_layers = 0;
  enter_stage(stage, false);
  torch::serialize::InputArchive g, og;
  a.read("G", g);
  G_->load(g);
  a.read("optG", og);
  optG_->load(og);
  if (G_ema_) {
    torch::serialize::InputArchive ge;
    a.read("G_ema", ge);
    G_ema_->load(ge);
  }
  for (size_t i = 0; i < tasks_.size(); ++i) {
    TaskState& t = tasks_[i];
    torch::serialize::InputArchive da, db, od;
    a.read("D_A/" + t.cfg.name, da);
    a.read("D_B/" + t.cfg.name, db);
    a.read("optD/" + t.cfg.name, od);
    t.D_A->load(da);
    t.D_B->load(db);
    t.optD->load(od);
    if (t.C) {
      torch::serialize::InputArchive c, oc;
      a.read("C/" + t.cfg.name, c);
      a.read("optC/" + t.cfg.name, oc);
      t.C->load(c);
      t.optC->load(oc);
    }
    torch::Tensor pa, pb;
    a.read("pool_fake_A/" + t.cfg.name, pa);
    a.read("pool_fake_B/" + t.cfg.name, pb);
    t.pool_fake_A->load(pa);
    t.pool_fake_B->load(pb);
    t.pool_fake_A->set_rng_state(state["pools"][i][0].get<std::string>());
    t.pool_fake_B->set_rng_state(state["pools"][i][1].get<std::string>());
    t.loader_A->seek(state["loaders"][i][0].get<int64_t>());
    t.loader_B->seek(state["loaders"][i][1].get<int64_t>());
  }
  torch::Tensor rng;
  a.read("torch_rng", rng);
  set_rng_state(rng);
  for (auto& [n, pts] : state["history"].items())
    history_[n] = pts.get<std::vector<std::pair<long, double>>>();
  for (auto& [n, v] : state["history_acc"].items())
    history_acc_[n] = {v[0].get<double>(), v[1].get<int>()};
  last_eval_ = state.value("last_eval", json::object());
  last_checkpoint_ = steps_done_;
  log(LogLevel::kInfo, "resumed from " + path + " at step " + std::to_string(steps_done_));
  return true;
}

json TrainingRun::evaluate(long steps_done) {
  return evaluate_at(schedule_.at(std::max(0L, steps_done - 1)).size);
}

json TrainingRun::evaluate_at(int size) {
  if (!judge_) return json::object();
  torch::NoGradGuard no_grad;
  std::vector<TaskHeldout> held;
  for (auto& t : tasks_) {
    TaskHeldout h;
    h.task = t.cfg.name;
    h.attribute = t.cfg.domains.a.races.size() == 1 && t.cfg.domains.b.races.size() == 1 &&
                          t.cfg.domains.a.races != t.cfg.domains.b.races
                      ? "race"
                      : "age";
    h.a_name = t.cfg.domains.a_name;
    h.b_name = t.cfg.domains.b_name;
    h.forward_cond = t.cond_AB;
    h.reverse_cond = t.cond_BA;
    if (h.attribute == "race") {
      h.race_a = t.cfg.domains.a.races[0];
      h.race_b = t.cfg.domains.b.races[0];
    }
    auto first = [&](const std::vector<FaceRecord>& r) {
      return std::vector<FaceRecord>(r.begin(),
                                     r.begin() + std::min<size_t>(r.size(), cfg_.eval_faces));
    };
    if (t.held_a.empty() || t.held_b.empty()) continue;
    h.a = load_face_tensor(first(t.held_a), size, cfg_.threads);
    h.b = load_face_tensor(first(t.held_b), size, cfg_.threads);
    held.push_back(std::move(h));
  }
  if (held.empty()) return json::object();
  ResnetGenerator G = served();
  G->eval();
  TranslateFn fn = [G](const torch::Tensor& x, int cond) mutable {
    return G->forward(x, torch::full({x.size(0)}, int64_t(cond), torch::kLong));
  };
  json r = evaluate_translation(fn, held, *judge_);
  G_->train();
  return r;
}

void TrainingRun::write_plots(long steps_done) {
  const fs::path dir(req_.job_dir);
  if (!history_.empty())
    write_image_atomic((dir / "loss_curves.png").string(), plot_loss_curves(history_), "png",
                       {{"step", std::to_string(steps_done)}});
  // Sample sheet: fixed held-out faces of the first task, half from each domain.
  const TaskState& t0 = tasks_.front();
  std::vector<FaceRecord> faces;
  const size_t half = (cfg_.sample_faces + 1) / 2;
  for (size_t i = 0; i < half && i < t0.held_a.size(); ++i) faces.push_back(t0.held_a[i]);
  for (size_t i = 0; faces.size() < size_t(cfg_.sample_faces) && i < t0.held_b.size(); ++i)
    faces.push_back(t0.held_b[i]);
  if (faces.empty()) return;
  torch::NoGradGuard no_grad;
  const int size = schedule_.at(std::max(0L, steps_done - 1)).size;
  torch::Tensor x = load_face_tensor(faces, size, cfg_.threads);
  auto cond_for = [&](const TaskState& t, bool reverse) {
    return torch::full({1}, int64_t(reverse ? t.cond_BA : t.cond_AB), torch::kLong);
  };
  std::vector<std::vector<cv::Mat>> rows(tasks_.size() + 2);
  std::vector<std::string> labels = {"input"};
  for (auto& t : tasks_) labels.push_back(t.cfg.name);
  labels.push_back(t0.cfg.name + " cycle");
  ResnetGenerator G = served();
  G->eval();
  for (size_t i = 0; i < faces.size(); ++i) {
    torch::Tensor xi = x.narrow(0, i, 1);
    rows[0].push_back(to_bgr(xi[0]));
    for (size_t k = 0; k < tasks_.size(); ++k) {
      const bool rev = tasks_[k].cfg.domains.b.matches(faces[i]);
      rows[k + 1].push_back(to_bgr(G->forward(xi, cond_for(tasks_[k], rev))[0]));
    }
    const bool rev = t0.cfg.domains.b.matches(faces[i]);
    torch::Tensor there = G->forward(xi, cond_for(t0, rev));
    rows.back().push_back(to_bgr(G->forward(there, cond_for(t0, !rev))[0]));
  }
  G_->train();
  write_image_atomic((dir / "samples.png").string(), make_sample_sheet(rows, labels), "png",
                     {{"step", std::to_string(steps_done)}});
}

// Pictures and evaluation after a checkpoint. They must not disturb the training stream, so
// the torch RNG is put back afterwards (a resumed run never ran them before its first step).
void TrainingRun::after_checkpoint(long steps_done) {
  const at::Tensor rng = get_rng_state();
  try {
    write_plots(steps_done);
  } catch (const std::exception& e) {
    log(LogLevel::kWarn, std::string("could not write loss_curves.png/samples.png: ") + e.what());
  }
  if (judge_) {
    json ev = evaluate(steps_done);
    ev["step"] = steps_done;
    last_eval_ = ev;
    if (hooks_.result) hooks_.result(json{{"evaluation", ev}}.dump());
    // Flatten numbers into metrics: eval/age/forward/cycle_l1, .../texture/hf_power_ratio ...
    std::function<void(const std::string&, const json&)> flatten = [&](const std::string& name,
                                                                       const json& v) {
      if (v.is_number()) metric(name, v.get<double>(), steps_done);
      if (v.is_object())
        for (auto& [k, child] : v.items()) flatten(name + "/" + k, child);
    };
    flatten("eval", ev.value("tasks", json::object()));
  }
  set_rng_state(rng);
  at::set_num_threads(cfg_.threads);
}

ModelCard TrainingRun::make_card() const {
  ModelCard card;
  card.name = cfg_.model_name;
  G_->options().to_card(card);
  for (auto& t : tasks_) {
    card.conditions.push_back(
        {t.cond_AB, t.cfg.name, "forward", t.cfg.domains.a_name, t.cfg.domains.b_name});
    card.conditions.push_back(
        {t.cond_BA, t.cfg.name, "reverse", t.cfg.domains.b_name, t.cfg.domains.a_name});
  }
  card.resolution = schedule_.stage(schedule_.num_stages() - 1).size;
  json tasks = json::object();
  for (size_t i = 0; i < tasks_.size(); ++i) {
    const auto& t = tasks_[i];
    tasks[t.cfg.name] = {{"a", t.cfg.domains.a_name},      {"b", t.cfg.domains.b_name},
                         {"train_a", t.train_a.size()},    {"train_b", t.train_b.size()},
                         {"heldout_a", t.held_a.size()},   {"heldout_b", t.held_b.size()},
                         {"steps", balancer_->steps()[i]}, {"keep_colour", t.cfg.keep_colour}};
  }
  json stages = json::array();
  for (int i = 0; i < schedule_.num_stages(); ++i)
    stages.push_back({{"size", schedule_.stage(i).size},
                      {"steps", schedule_.stage(i).steps},
                      {"batch", schedule_.stage(i).batch}});
  card.training = {
      {"data",
       cfg_.synthetic ? "synthetic faces (n=" + std::to_string(cfg_.synthetic_n) + ")" : data_dir_},
      {"heldout_fraction", cfg_.heldout_fraction},
      {"seed", cfg_.seed},
      {"tasks", tasks},
      {"stages", stages},
      {"steps", steps_done_},
      {"losses",
       {{"preset", cfg_.loss_preset},
        {"lambda_cycle", cfg_.lambda_cycle},
        {"lambda_identity", cfg_.lambda_identity},
        {"lambda_gan", cfg_.lambda_gan},
        {"cycle_noise", cfg_.cycle_noise},
        {"d_source_negatives", cfg_.d_source_negatives},
        {"lambda_cls", cfg_.lambda_cls},
        {"cls_input", cfg_.cls_grey ? "grey" : "colour"}}},
      {"generator_ema", cfg_.g_ema},
      {"optimizer",
       {{"lr", cfg_.lr},
        {"beta1", cfg_.beta1},
        {"decay_fraction", cfg_.decay_fraction},
        {"pool_size", cfg_.pool_size}}},
      {"balance", cfg_.balance_mode},
      {"warm_start", cfg_.warm_start},
      {"precision", cfg_.precision},
      {"wall_time_s",
       wall_before_s_ + std::chrono::duration<double>(Clock::now() - started_).count()},
      {"hardware", hardware_description(cfg_.threads)},
      {"config", req_.config_path}};
  card.metrics = last_eval_;
  card.licence = cfg_.synthetic ? "synthetic training data"
                                : "trained on UTKFace: non-commercial research only";
  return card;
}

void TrainingRun::finish() {
  fs::create_directories(req_.models_dir);
  const std::string path = (fs::path(req_.models_dir) / (cfg_.model_name + ".pt")).string();
  ModelCard card = make_card();
  ResnetGenerator G = served();
  save_model(path, G, card);
  log(LogLevel::kInfo, "model written to " + path);
  if (hooks_.model_ready) hooks_.model_ready(path);
  if (hooks_.result)
    hooks_.result(
        json{{"model", path}, {"evaluation", last_eval_}, {"training", card.training}}.dump());
  progress(1.0, "done: " + path);
}

json TrainingRun::evaluate_only(const std::string& model_path) {
  at::set_num_threads(cfg_.threads);
  fs::create_directories(req_.job_dir);
  if (!cfg_.eval_enabled) throw std::invalid_argument("eval.enabled is false in this config");
  prepare_data();
  prepare_judge();
  at::set_num_threads(cfg_.threads);
  LoadedModel m = load_task_model(model_path, model_path);
  G_ = m.generator;
  return evaluate_at(m.card.resolution);
}

void TrainingRun::run() {
  at::set_num_threads(cfg_.threads);
  fs::create_directories(req_.job_dir);
  prepare_data();
  prepare_judge();
  at::set_num_threads(cfg_.threads);
  torch::manual_seed(cfg_.seed);
  build_generator();
  std::vector<std::string> names;
  std::vector<double> weights;
  for (auto& t : tasks_) {
    names.push_back(t.cfg.name);
    weights.push_back(t.cfg.weight);
  }
  balancer_ = std::make_unique<TaskBalancer>(
      names, weights,
      cfg_.balance_mode == "adaptive" ? TaskBalancer::Mode::kAdaptive : TaskBalancer::Mode::kFixed,
      cfg_.adaptive_ema, cfg_.adaptive_min_share);
  ckpt_ = std::make_unique<CheckpointIO>((fs::path(req_.job_dir) / "checkpoints").string(),
                                         cfg_.keep_last);
  if (!resume()) enter_stage(0, true);

  const long total = schedule_.total_steps();
  for (long step = steps_done_; step < total; ++step) {
    if (ctx_.is_cancelled()) {
      if (last_checkpoint_ != steps_done_) save_checkpoint(steps_done_);
      log(LogLevel::kInfo,
          "cancelled at step " + std::to_string(steps_done_) + "; checkpoint written");
      return;
    }
    const int stage = schedule_.at(step).stage;
    if (stage != stage_) enter_stage(stage, true);
    train_step(step);
    steps_done_ = step + 1;
    progress(double(steps_done_) / total, schedule_.describe(step));
    if (steps_done_ % cfg_.checkpoint_every == 0 || schedule_.ends_stage(steps_done_)) {
      save_checkpoint(steps_done_);
      after_checkpoint(steps_done_);
    }
  }
  if (last_checkpoint_ != steps_done_) save_checkpoint(steps_done_);
  finish();
}

}  // namespace

TrainConfig load_request_config(const TrainRequest& req) {
  TrainConfig cfg = parse_train_config(req.config_toml, req.config_path);
  if (!cfg.synthetic) {
    std::string dir = resolve_path(cfg.data_dir, req);
    if (!fs::is_directory(dir))
      throw std::invalid_argument("data.dir: " + dir +
                                  " is not a folder; point it at UTKFace-style images");
  }
  if (!cfg.warm_start.empty() && !fs::exists(resolve_path(cfg.warm_start, req)))
    throw std::invalid_argument("warm_start: " + resolve_path(cfg.warm_start, req) +
                                " does not exist; give a model .pt from `facecycle models`");
  if (!cfg.judge_path.empty() && !fs::exists(resolve_path(cfg.judge_path, req)))
    throw std::invalid_argument("eval.judge_path: " + resolve_path(cfg.judge_path, req) +
                                " does not exist");
  return cfg;
}

void run_training(const TrainRequest& req, HostContext& ctx, TrainHooks& hooks) {
  TrainingRun run(req, ctx, hooks);
  run.run();
}

std::string evaluate_model(const TrainRequest& req, const std::string& model_path, HostContext& ctx,
                           TrainHooks& hooks) {
  TrainingRun run(req, ctx, hooks);
  return run.evaluate_only(model_path).dump();
}

}  // namespace fc::train
