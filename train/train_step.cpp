#include "train_step.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <chrono>

namespace fc::train {
namespace {

// Autocast to bf16 for the forward passes of one step, on the networks' device type
// (thread-local state).
class Bf16Autocast {
 public:
  Bf16Autocast(bool on, const torch::Device& device) : on_(on), cuda_(device.is_cuda()) {
    if (!on_) return;
    enable(true);
  }
  ~Bf16Autocast() {
    if (!on_) return;
    enable(false);
    at::autocast::clear_cache();
  }

 private:
  // LibTorch 2.4 replaced the per-device calls (deprecated there, perhaps gone later) with
  // device-type arguments; Debian's 1.13 has only the old ones.
  void enable(bool on) const {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    const at::DeviceType type = cuda_ ? at::kCUDA : at::kCPU;
    at::autocast::set_autocast_enabled(type, on);
    if (on) at::autocast::set_autocast_dtype(type, at::kBFloat16);
#else
    if (cuda_) {
      at::autocast::set_enabled(on);
      if (on) at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    } else {
      at::autocast::set_cpu_enabled(on);
      if (on) at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    }
#endif
  }

  bool on_, cuda_;
};

// While G learns, the discriminators and the classifier are frozen so that no gradients are
// spent on them.
void set_requires_grad(TaskState& t, bool on) {
  auto get = [](auto& net) { return net ? net.ptr().get() : nullptr; };
  for (torch::nn::Module* m :
       {get(t.D_A), get(t.D_B), get(t.D_A_local), get(t.D_B_local), get(t.C)})
    if (m)
      for (auto& p : m->parameters()) p.set_requires_grad(on);
}

// The loader's next batch, on the host. The copy to the device is left out of the wait: on a GPU
// it also waits for the work queued before it.
torch::Tensor next_real(TaskState& t, BatchLoader& loader) {
  const auto t0 = std::chrono::steady_clock::now();
  torch::Tensor faces = loader.next();
  t.data_wait_ms +=
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return faces;
}

// A batch of each of the task's domains, on the networks' device.
CycleBatch next_batch(TaskState& t, const TaskData& task, const torch::Device& device) {
  CycleBatch batch;
  batch.real_A = next_real(t, *t.loader_A).to(device);
  batch.real_B = next_real(t, *t.loader_B).to(device);
  batch.cond_AB = task.cond_AB;
  batch.cond_BA = task.cond_BA;
  return batch;
}

// keep_shape's term before its weight: half of shape_change_loss for each direction it prices.
torch::Tensor shape_change_term(const TaskConfig& cfg, const CycleBatch& batch,
                                const CycleImages& im) {
  torch::Tensor shape = torch::zeros({}, batch.real_A.options());
  if (cfg.keep_shape_on != ShapeSides::kReverse)
    shape = shape + 0.5 * shape_change_loss(batch.real_A, im.fake_B);
  if (cfg.keep_shape_on != ShapeSides::kForward)
    shape = shape + 0.5 * shape_change_loss(batch.real_B, im.fake_A);
  return shape;
}

// The generator objective: CycleGAN's adversarial, cycle and identity terms, plus the task's
// colour-shift and change-detail penalties and StarGAN's classification of the fakes when they are
// on.
GLoss generator_objective(TrainState& s, TaskState& t, const CycleBatch& batch,
                          const TaskData& task, const StepSettings& st) {
  Bf16Autocast autocast(st.bf16, st.device);
  GLoss g = compute_g_loss({s.G, t.D_A, t.D_B}, batch, st.weights);
  const CycleImages& im = g.images;
  if (task.cfg.keep_colour > 0) {
    torch::Tensor tint = 0.5 * (colour_shift_loss(batch.real_A, im.fake_B) +
                                colour_shift_loss(batch.real_B, im.fake_A));
    g.total = g.total + tint * task.cfg.keep_colour;
    g.loss_colour = tint.item<double>() * task.cfg.keep_colour;
  }
  if (task.cfg.smooth_change > 0) {
    const int r = task.cfg.smooth_radius;
    torch::Tensor detail = 0.5 * (change_detail_loss(batch.real_A, im.fake_B, r) +
                                  change_detail_loss(batch.real_B, im.fake_A, r));
    g.total = g.total + detail * task.cfg.smooth_change;
    g.loss_smooth = detail.item<double>() * task.cfg.smooth_change;
  }
  if (task.cfg.keep_local_colour > 0) {
    const int patch = std::max<int>(2, static_cast<int>(batch.real_A.size(-1)) / 16);
    torch::Tensor tint = 0.5 * (local_tint_loss(batch.real_A, im.fake_B, patch) +
                                local_tint_loss(batch.real_B, im.fake_A, patch));
    g.total = g.total + tint * task.cfg.keep_local_colour;
    g.loss_local_tint = tint.item<double>() * task.cfg.keep_local_colour;
  }
  if (task.cfg.keep_shape > 0) {
    torch::Tensor shape = shape_change_term(task.cfg, batch, im);
    g.total = g.total + shape * task.cfg.keep_shape;
    g.loss_shape = shape.item<double>() * task.cfg.keep_shape;
  }
  if (t.D_A_local) {
    torch::Tensor local = 0.5 * (lsgan_loss(t.D_A_local->forward(im.fake_B), 1.f) +
                                 lsgan_loss(t.D_B_local->forward(im.fake_A), 1.f));
    g.total = g.total + local * st.local_gan;
    g.loss_local = local.item<double>() * st.local_gan;
  }
  if (t.C) {
    torch::Tensor cls =
        domain_cls_loss(t.C, im.fake_A, im.fake_B, st.cls_input, st.cls_downsample) *
        st.weights.domain_cls;
    g.total = g.total + cls;
    g.loss_cls = cls.item<double>();
  }
  if (st.update_G)
    for (const HeldEdit& h : st.held) {
      torch::Tensor pull =
          compute_hold_loss(s.G, s.G_hold, next_batch(*h.state, *h.task, st.device)) *
          h.task->cfg.hold;
      g.total = g.total + pull;
      g.loss_hold += pull.item<double>();
    }
  return g;
}

void update_ema(TrainState& s, double decay) {
  if (!s.G_ema) return;
  torch::NoGradGuard no_grad;
  auto dst = s.G_ema->parameters();
  auto src = s.G->parameters();
  for (size_t i = 0; i < dst.size(); ++i) dst[i].lerp_(src[i], 1.0 - decay);
}

GLoss backward_G(TrainState& s, TaskState& t, const CycleBatch& batch, const TaskData& task,
                 const StepSettings& st) {
  if (!st.update_G) {  // the warm-up: D and C learn against the warm-started G as it stands
    torch::NoGradGuard no_grad;
    GLoss g = generator_objective(s, t, batch, task, st);
    if (st.bf16) {
      g.images.fake_A = g.images.fake_A.to(torch::kFloat);
      g.images.fake_B = g.images.fake_B.to(torch::kFloat);
    }
    return g;
  }
  set_requires_grad(t, false);
  s.optG->zero_grad();
  GLoss g = generator_objective(s, t, batch, task, st);
  g.total.backward();
  if (st.bf16) {  // the pools and checkpoints keep fp32 images
    g.images.fake_A = g.images.fake_A.to(torch::kFloat);
    g.images.fake_B = g.images.fake_B.to(torch::kFloat);
  }
  if (st.data_parallel) st.data_parallel->average_gradients({s.optG.get()});
  s.optG->step();
  set_requires_grad(t, true);
  update_ema(s, st.g_ema);
  return g;
}

struct DLoss {
  torch::Tensor loss_D_A, loss_D_B, loss_C;  // loss_C: undefined without a classifier
  torch::Tensor loss_D_local;                // undefined without local discriminators
};

// The discriminators learn from pooled fakes (a history of G's outputs, Shrivastava et al.);
// the classifier from real faces only, so that the generator cannot teach it its own shortcuts.
DLoss backward_D(TaskState& t, const CycleBatch& batch, const CycleImages& im,
                 const StepSettings& st) {
  t.optD->zero_grad();
  if (t.optC) t.optC->zero_grad();
  DLoss d;
  {
    Bf16Autocast autocast(st.bf16, st.device);
    const double neg = st.weights.d_source_negatives;
    const torch::Tensor pooled_B = t.pool_fake_B->query(im.fake_B);
    const torch::Tensor pooled_A = t.pool_fake_A->query(im.fake_A);
    d.loss_D_A = compute_d_loss(t.D_A, batch.real_B, pooled_B, batch.real_A, neg);
    d.loss_D_B = compute_d_loss(t.D_B, batch.real_A, pooled_A, batch.real_B, neg);
    if (t.D_A_local)
      d.loss_D_local =
          0.5 * (compute_d_loss(t.D_A_local, batch.real_B, pooled_B, batch.real_A, neg) +
                 compute_d_loss(t.D_B_local, batch.real_A, pooled_A, batch.real_B, neg));
    if (t.C)
      d.loss_C = domain_cls_loss(t.C, batch.real_A, batch.real_B, st.cls_input, st.cls_downsample);
  }
  torch::Tensor all = d.loss_D_A + d.loss_D_B;
  if (d.loss_C.defined()) all = all + d.loss_C;
  if (d.loss_D_local.defined()) all = all + d.loss_D_local;
  all.backward();
  if (st.data_parallel) st.data_parallel->average_gradients({t.optD.get(), t.optC.get()});
  t.optD->step();
  if (t.optC) t.optC->step();
  return d;
}

// The classifier's updates past the first of a step (TaskConfig::cls_steps), each on fresh real
// faces so that it learns the domains rather than one batch. Returns the last one's loss.
torch::Tensor extra_classifier_steps(TaskState& t, const StepSettings& st) {
  torch::Tensor loss;
  for (int i = 1; i < st.cls_steps; ++i) {
    const torch::Tensor real_A = next_real(t, *t.loader_A).to(st.device);
    const torch::Tensor real_B = next_real(t, *t.loader_B).to(st.device);
    t.optC->zero_grad();
    {
      Bf16Autocast autocast(st.bf16, st.device);
      loss = domain_cls_loss(t.C, real_A, real_B, st.cls_input, st.cls_downsample);
    }
    loss.backward();
    if (st.data_parallel) st.data_parallel->average_gradients({t.optC.get()});
    t.optC->step();
  }
  return loss;
}

// A held task's step (TaskConfig::hold): G learns to give the warm start's output on the task's
// faces, both ways; the task's critics and classifier rest. The warm-up trains nothing here.
StepLosses hold_edit(TrainState& s, TaskState& t, const TaskData& task, const StepSettings& st) {
  StepLosses l;
  if (!st.update_G) return l;
  const CycleBatch batch = next_batch(t, task, st.device);
  s.optG->zero_grad();
  torch::Tensor loss;
  {
    Bf16Autocast autocast(st.bf16, st.device);
    loss = compute_hold_loss(s.G, s.G_hold, batch) * task.cfg.hold;
  }
  loss.backward();
  if (st.data_parallel) st.data_parallel->average_gradients({s.optG.get()});
  s.optG->step();
  update_ema(s, st.g_ema);
  l.loss_hold = loss.item<double>();
  l.loss_G = *l.loss_hold;
  return l;
}

StepLosses losses_of(const GLoss& g, const DLoss& d, const TaskData& task, const StepSettings& st) {
  StepLosses l;
  if (!st.held.empty()) l.loss_hold = g.loss_hold;
  l.loss_G = g.total.item<double>();
  l.loss_G_A = g.loss_G_A;
  l.loss_G_B = g.loss_G_B;
  l.loss_cycle_A = g.loss_cycle_A;
  l.loss_cycle_B = g.loss_cycle_B;
  l.loss_idt_A = g.loss_idt_A;
  l.loss_idt_B = g.loss_idt_B;
  l.loss_D_A = d.loss_D_A.item<double>();
  l.loss_D_B = d.loss_D_B.item<double>();
  if (task.cfg.keep_colour > 0) l.loss_colour = g.loss_colour;
  if (task.cfg.smooth_change > 0) l.loss_smooth = g.loss_smooth;
  if (task.cfg.keep_local_colour > 0) l.loss_local_tint = g.loss_local_tint;
  if (task.cfg.keep_shape > 0) l.loss_shape = g.loss_shape;
  if (d.loss_D_local.defined()) {
    l.loss_G_local = g.loss_local;
    l.loss_D_local = d.loss_D_local.item<double>();
  }
  if (d.loss_C.defined()) {
    l.loss_cls_fake = g.loss_cls;
    l.loss_cls_real = d.loss_C.item<double>();
  }
  return l;
}

}  // namespace

torch::Device training_device(const TrainConfig& cfg) {
  return cfg.device == fc::DeviceChoice::kCuda ? torch::Device(torch::kCUDA, 0)
                                               : torch::Device(torch::kCPU);
}

StepSettings step_settings(const TrainConfig& cfg, const TaskConfig& task) {
  StepSettings st;
  st.weights = {cfg.lambda_gan,  task.lambda_cycle,      cfg.lambda_identity,
                cfg.cycle_noise, cfg.d_source_negatives, task.lambda_cls};
  st.cls_input = task.cls_input;
  st.cls_downsample = task.cls_downsample;
  st.cls_steps = task.cls_steps;
  st.bf16 = cfg.precision == Precision::kBf16;
  st.g_ema = cfg.g_ema;
  st.local_gan = cfg.d_local_layers > 0 ? cfg.lambda_gan * cfg.lambda_local : 0.0;
  st.device = training_device(cfg);
  return st;
}

StepLosses optimize_parameters(TrainState& s, TaskState& t, const TaskData& task,
                               const StepSettings& st) {
  if (task.cfg.hold > 0) return hold_edit(s, t, task, st);
  const CycleBatch batch = next_batch(t, task, st.device);
  const GLoss g = backward_G(s, t, batch, task, st);
  DLoss d = backward_D(t, batch, g.images, st);
  if (t.C && st.cls_steps > 1) d.loss_C = extra_classifier_steps(t, st);
  return losses_of(g, d, task, st);
}

}  // namespace fc::train
