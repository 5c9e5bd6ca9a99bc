#include "job_pictures.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "eval/attribute_judge.h"

namespace fs = std::filesystem;

namespace fc::train {
namespace {

// [-1,1] RGB tensor [3,H,W] -> [H,W,3] uint8 RGB on the CPU
torch::Tensor to_rgb8(const torch::Tensor& t) {
  return ((t.detach().to(torch::kCPU, torch::kFloat32).clamp(-1, 1) + 1) * 127.5)
      .round()
      .to(torch::kUInt8)
      .permute({1, 2, 0})
      .contiguous();
}

std::vector<FaceRecord> sample_faces(const TaskData& t0, int n) {
  std::vector<FaceRecord> faces;
  const size_t half = (n + 1) / 2;
  for (size_t i = 0; i < half && i < t0.held_a.size(); ++i) faces.push_back(t0.held_a[i]);
  for (size_t i = 0; faces.size() < size_t(n) && i < t0.held_b.size(); ++i)
    faces.push_back(t0.held_b[i]);
  return faces;
}

torch::Tensor cond_for(const TaskData& t, bool reverse, const torch::Device& device) {
  return torch::full({1}, int64_t(reverse ? t.cond_BA : t.cond_AB),
                     torch::TensorOptions(torch::kLong).device(device));
}

}  // namespace

void write_loss_curves(const std::string& job_dir, const LossHistory& history, long step) {
  if (history.empty()) return;
  write_loss_curves_png((fs::path(job_dir) / "loss_curves.png").string(), history, step);
}

void write_sample_sheet(const std::string& job_dir, ResnetGenerator G,
                        const std::vector<TaskData>& tasks, const SampleSettings& settings,
                        long step) {
  const TaskData& t0 = tasks.front();
  const std::vector<FaceRecord> faces = sample_faces(t0, settings.faces);
  if (faces.empty()) return;
  torch::NoGradGuard no_grad;
  const torch::Device device = G->parameters().front().device();
  torch::Tensor x = load_face_tensor(faces, settings.size, settings.threads).to(device);
  std::vector<std::vector<torch::Tensor>> rows(tasks.size() + 2);
  // Each row says its task and the directions its columns show, e.g. "age" over "20-29->50-59"
  // and "50-59->20-29": the first columns are one domain's faces, the rest the other's.
  std::vector<std::vector<std::string>> directions(tasks.size());
  const bool was_training = G->is_training();
  G->eval();
  for (size_t i = 0; i < faces.size(); ++i) {
    torch::Tensor xi = x.narrow(0, i, 1);
    rows[0].push_back(to_rgb8(xi[0]));
    for (size_t k = 0; k < tasks.size(); ++k) {
      const bool rev = tasks[k].cfg.domains.b.matches(faces[i]);
      rows[k + 1].push_back(to_rgb8(G->forward(xi, cond_for(tasks[k], rev, device))[0]));
      const TaskDomains& d = tasks[k].cfg.domains;
      const std::string dir = rev ? d.b_name + "->" + d.a_name : d.a_name + "->" + d.b_name;
      auto& seen = directions[k];
      if (std::find(seen.begin(), seen.end(), dir) == seen.end()) seen.push_back(dir);
    }
    const bool rev = t0.cfg.domains.b.matches(faces[i]);
    torch::Tensor there = G->forward(xi, cond_for(t0, rev, device));
    rows.back().push_back(to_rgb8(G->forward(there, cond_for(t0, !rev, device))[0]));
  }
  if (was_training) G->train();
  std::vector<std::string> labels = {"input"};
  for (size_t k = 0; k < tasks.size(); ++k) {
    labels.push_back(tasks[k].cfg.name);
    for (const auto& dir : directions[k]) labels.back() += "\n" + dir;
  }
  labels.push_back(t0.cfg.name + " cycle\nthere and\nback");
  const fs::path latest = fs::path(job_dir) / "samples.png";
  write_sample_sheet_png(latest.string(), rows, labels, step);
  // One sheet per checkpoint as well, so a run's progress can be looked back on (the dashboard
  // shows them all); samples.png stays the newest for `fetch` and scripts.
  char name[40];
  std::snprintf(name, sizeof name, "samples_step%06ld.png", step);
  fs::copy_file(latest, fs::path(job_dir) / name, fs::copy_options::overwrite_existing);
}

}  // namespace fc::train
