#include "eval/gate_training.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "data/domains.h"
#include "data/packed_faces.h"
#include "data/seeded_rng.h"
#include "eval/attribute_judge.h"

namespace fc::train {

namespace {

using nlohmann::json;

struct TaskFaces {
  torch::Tensor train_a, train_b, held_a, held_b;  // [N,3,S,S] in [-1,1]
  std::vector<FaceRecord> held_a_records, held_b_records;
};

// File names of the source faces at or above `at`, for a reader to look at.
json skipped_names(const torch::Tensor& p_target_on_source, const std::vector<FaceRecord>& source,
                   double at) {
  json names = json::array();
  for (int64_t i = 0; i < p_target_on_source.size(0); ++i)
    if (p_target_on_source[i].item<double>() >= at)
      names.push_back(std::filesystem::path(source.at(i).path).filename().string());
  return names;
}

// `n` random rows of x, flipped and jittered in exposure and contrast.
torch::Tensor sample(const torch::Tensor& x, int n, SeededRng& rng) {
  std::vector<int64_t> idx;
  for (int i = 0; i < n; ++i) idx.push_back(static_cast<int64_t>(rng.below(x.size(0))));
  torch::Tensor b = x.index_select(0, torch::tensor(idx));
  std::vector<float> gain, shift, flip;
  for (int i = 0; i < n; ++i) {
    gain.push_back(static_cast<float>(rng.uniform(0.75, 1.25)));
    shift.push_back(static_cast<float>(rng.uniform(-0.2, 0.2)));
    flip.push_back(rng.uniform() < 0.5 ? 1.f : 0.f);
  }
  const auto col = [n](const std::vector<float>& v) { return torch::tensor(v).view({n, 1, 1, 1}); };
  const torch::Tensor f = col(flip);
  b = f * b.flip({3}) + (1 - f) * b;
  return (b * col(gain) + col(shift)).clamp(-1, 1);
}

// Of the held-out faces of a direction, the fractions at or above `at`: source faces the gate
// would wrongly leave alone, and target faces it rightly would.
json direction_report(const torch::Tensor& p_target_on_source,
                      const torch::Tensor& p_target_on_target, double at) {
  const auto frac = [at](const torch::Tensor& p) {
    return (p >= at).to(torch::kFloat64).mean().item<double>();
  };
  return {{"source_skipped", frac(p_target_on_source)},
          {"target_skipped", frac(p_target_on_target)}};
}

json heldout_report(DomainGate& gate, int t, const TaskFaces& f, double skip_at) {
  const torch::Tensor b_on_a = target_probability(gate, f.held_a, t, false);
  const torch::Tensor b_on_b = target_probability(gate, f.held_b, t, false);
  const double right = (b_on_a < 0.5).sum().item<double>() + (b_on_b >= 0.5).sum().item<double>();
  json sweep = json::object();
  for (double at : {0.9, 0.95, 0.98, 0.99}) {
    char key[8];
    std::snprintf(key, sizeof key, "%.2f", at);
    sweep[key] = {{"forward", direction_report(b_on_a, b_on_b, at)},
                  {"reverse", direction_report(1 - b_on_b, 1 - b_on_a, at)}};
  }
  return {{"heldout_a", f.held_a.size(0)},
          {"heldout_b", f.held_b.size(0)},
          {"accuracy", right / double(f.held_a.size(0) + f.held_b.size(0))},
          {"forward", direction_report(b_on_a, b_on_b, skip_at)},  // A -> B: B is the target
          {"reverse", direction_report(1 - b_on_b, 1 - b_on_a, skip_at)},
          {"thresholds", sweep},
          {"forward_source_skipped", skipped_names(b_on_a, f.held_a_records, skip_at)},
          {"reverse_source_skipped", skipped_names(1 - b_on_b, f.held_b_records, skip_at)}};
}

// The config's tasks named in `asked` (all when empty); an unknown name is refused, naming
// the config's tasks.
std::vector<const TaskConfig*> gated_tasks(const TrainConfig& config,
                                           const std::vector<std::string>& asked) {
  std::string known;
  for (const auto& t : config.tasks) known += (known.empty() ? "" : ", ") + t.name;
  for (const auto& name : asked)
    if (std::none_of(config.tasks.begin(), config.tasks.end(),
                     [&](const TaskConfig& t) { return t.name == name; }))
      throw std::invalid_argument("gate task '" + name + "' is not a task of the config (" + known +
                                  ")");
  std::vector<const TaskConfig*> out;
  for (const auto& t : config.tasks)
    if (asked.empty() || std::find(asked.begin(), asked.end(), t.name) != asked.end())
      out.push_back(&t);
  return out;
}

TaskFaces load_task_faces(const TaskConfig& t, const Split& split, const std::string& data_dir,
                          const GateTrainOptions& o, uint64_t seed) {
  const auto& d = t.domains;
  TaskFaces f;
  f.train_a = load_face_tensor(seeded_sample(d.select_a(split.train), o.max_images, seed), o.size,
                               o.threads);
  f.train_b = load_face_tensor(seeded_sample(d.select_b(split.train), o.max_images, seed + 1),
                               o.size, o.threads);
  f.held_a_records = d.select_a(split.heldout);
  f.held_b_records = d.select_b(split.heldout);
  f.held_a = load_face_tensor(f.held_a_records, o.size, o.threads);
  f.held_b = load_face_tensor(f.held_b_records, o.size, o.threads);
  if (f.train_a.size(0) == 0 || f.train_b.size(0) == 0 || f.held_a.size(0) == 0 ||
      f.held_b.size(0) == 0)
    throw std::invalid_argument("tasks." + t.name +
                                ": a domain has no training or held-out faces in " + data_dir);
  return f;
}

// Adam on the binary cross-entropy of each task's logit, over balanced batches of its A and B
// faces; each face trains only its own task's logit.
void fit(DomainGate& gate, const std::vector<TaskFaces>& faces, const GateTrainOptions& o,
         uint64_t seed, const std::function<void(int, double)>& progress) {
  torch::optim::Adam opt(gate->parameters(), torch::optim::AdamOptions(o.lr).betas({0.5, 0.999}));
  SeededRng rng(seed);
  gate->train();
  for (int step = 1; step <= o.steps; ++step) {
    std::vector<torch::Tensor> xs, ys, which;
    for (size_t t = 0; t < faces.size(); ++t) {
      xs.push_back(sample(faces[t].train_a, o.batch, rng));
      xs.push_back(sample(faces[t].train_b, o.batch, rng));
      ys.push_back(torch::cat({torch::zeros({o.batch}), torch::ones({o.batch})}));
      which.push_back(torch::full({2 * o.batch}, static_cast<int64_t>(t), torch::kLong));
    }
    const torch::Tensor logits =
        gate->forward(torch::cat(xs)).gather(1, torch::cat(which).unsqueeze(1)).squeeze(1);
    const torch::Tensor loss = torch::binary_cross_entropy_with_logits(logits, torch::cat(ys));
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (progress && (step % 50 == 0 || step == o.steps)) progress(step, loss.item<double>());
  }
  gate->eval();
}

}  // namespace

DomainGate train_gate(const TrainConfig& config, const std::string& data_dir,
                      const GateTrainOptions& o, std::function<void(int, double)> progress) {
  const std::vector<const TaskConfig*> gated = gated_tasks(config, o.tasks);
  const Split split =
      split_heldout(scan_faces(data_dir).records, config.heldout_fraction, config.seed);
  GateSpec spec;
  spec.size = o.size;
  spec.width = o.width;
  spec.skip_at = o.skip_at;
  std::vector<TaskFaces> faces;
  for (const TaskConfig* t : gated) {
    spec.tasks.push_back({t->name, t->domains.a_name, t->domains.b_name});
    faces.push_back(load_task_faces(*t, split, data_dir, o, config.seed));
  }
  torch::manual_seed(config.seed);
  DomainGate gate(spec);
  fit(gate, faces, o, seed_of(config.seed, 0x6a7e), progress);
  json heldout = json::object();
  for (size_t t = 0; t < faces.size(); ++t)
    heldout[spec.tasks[t].task] = heldout_report(gate, static_cast<int>(t), faces[t], o.skip_at);
  gate->record_heldout(heldout.dump());
  return gate;
}

}  // namespace fc::train
