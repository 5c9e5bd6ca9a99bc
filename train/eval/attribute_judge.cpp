#include "eval/attribute_judge.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "data/domains.h"
#include "data/face_cache.h"
#include "data/seeded_rng.h"
#include "facecycle/core/networks.h"

namespace fc::train {
namespace {

// A small strided CNN (strided_classifier_trunk) with a linear head.
struct JudgeNetImpl : torch::nn::Module {
  torch::nn::Sequential features{nullptr};
  torch::nn::Linear head{nullptr};
  JudgeNetImpl(int width, int outputs) {
    features = register_module("features", strided_classifier_trunk(width));
    head = register_module("head", torch::nn::Linear(width << 3, outputs));
  }
  torch::Tensor forward(const torch::Tensor& x) { return head(features->forward(x)); }
};
TORCH_MODULE(JudgeNet);

// [N,3,S,S] uint8 RGB, decoded by `threads` threads.
torch::Tensor load_uint8(const std::vector<FaceRecord>& records, int size, int threads) {
  const int64_t n = static_cast<int64_t>(records.size());
  torch::Tensor out = torch::empty({n, 3, size, size}, torch::kUInt8);
  std::atomic<int64_t> next{0};
  std::exception_ptr err;
  std::mutex err_mu;
  auto work = [&] {
    for (int64_t i; (i = next++) < n;) {
      try {
        out[i].copy_(load_square_face(records[i].path, size).permute({2, 0, 1}));
      } catch (...) {
        std::lock_guard<std::mutex> lock(err_mu);
        if (!err) err = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, threads); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (err) std::rethrow_exception(err);
  return out;
}

torch::Tensor to_float(const torch::Tensor& u8) {
  return u8.to(torch::kFloat32).div(127.5).sub(1.0);
}

// A deterministic subsample of at most `cap` records (0: all).
torch::Tensor labels(const std::vector<FaceRecord>& r, bool age) {
  std::vector<float> a;
  std::vector<int64_t> c;
  for (const auto& x : r) {
    a.push_back(x.age / 100.0f);
    c.push_back(x.race);
  }
  return age ? torch::tensor(a) : torch::tensor(c);
}

nlohmann::json options_json(const JudgeOptions& o) {
  return {{"size", o.size},
          {"width", o.width},
          {"steps", o.steps},
          {"batch", o.batch},
          {"lr", o.lr},
          {"seed", o.seed},
          {"max_images", o.max_images},
          {"race_classes", o.race_classes}};
}

}  // namespace

struct AttributeJudge::Nets {
  JudgeNet age{nullptr}, race{nullptr};
};

namespace {
std::shared_ptr<AttributeJudge::Nets> make_nets(const JudgeOptions& o) {
  auto n = std::make_shared<AttributeJudge::Nets>();
  n->age = JudgeNet(o.width, 1);
  n->race = JudgeNet(o.width, o.race_classes);
  return n;
}
void require(const AttributeJudge& j) {
  if (!j.nets) throw std::logic_error("AttributeJudge used before train_judge/load_judge");
}
}  // namespace

torch::Tensor AttributeJudge::age(const torch::Tensor& x) {
  require(*this);
  torch::NoGradGuard ng;
  nets->age->eval();
  return nets->age->forward(resize_square(x.to(torch::kCPU, torch::kFloat32), options.size))
             .squeeze(1) *
         100.0;
}

torch::Tensor AttributeJudge::race_logits(const torch::Tensor& x) {
  require(*this);
  torch::NoGradGuard ng;
  nets->race->eval();
  return nets->race->forward(resize_square(x.to(torch::kCPU, torch::kFloat32), options.size));
}

torch::Tensor AttributeJudge::race_prob(const torch::Tensor& x, int race) {
  if (race < 0 || race >= options.race_classes)
    throw std::invalid_argument("race_prob: race must be in 0.." +
                                std::to_string(options.race_classes - 1));
  return torch::softmax(race_logits(x), 1).select(1, race);
}

torch::Tensor load_face_tensor(const std::vector<FaceRecord>& records, int size, int threads) {
  return to_float(load_uint8(records, size, threads));
}

namespace {

using MetricFn = std::function<void(std::string, double, long)>;

// Adam on both networks over random batches of the decoded images, half of them mirrored.
void fit(AttributeJudge::Nets& nets, const torch::Tensor& images, const torch::Tensor& ages,
         const torch::Tensor& races, const JudgeOptions& o, const MetricFn& metric) {
  torch::optim::Adam opt_age(nets.age->parameters(), torch::optim::AdamOptions(o.lr));
  torch::optim::Adam opt_race(nets.race->parameters(), torch::optim::AdamOptions(o.lr));
  nets.age->train();
  nets.race->train();
  SeededRng rng(seed_of(o.seed, 3));
  const int64_t n = images.size(0);
  double age_l1 = 0, race_ce = 0;
  int window = 0;
  for (int step = 1; step <= o.steps; ++step) {
    std::vector<int64_t> idx(std::min<int64_t>(o.batch, n));
    for (auto& i : idx) i = static_cast<int64_t>(rng.below(n));
    const torch::Tensor ix = torch::tensor(idx);
    torch::Tensor x = to_float(images.index_select(0, ix));
    if (rng.uniform() < 0.5) x = x.flip({3});
    const torch::Tensor ya = ages.index_select(0, ix), yr = races.index_select(0, ix);

    opt_age.zero_grad();
    torch::Tensor la =
        torch::smooth_l1_loss(nets.age->forward(x).squeeze(1), ya, at::Reduction::Mean, 0.05);
    la.backward();
    opt_age.step();
    opt_race.zero_grad();
    torch::Tensor lr = torch::cross_entropy_loss(nets.race->forward(x), yr);
    lr.backward();
    opt_race.step();

    age_l1 += la.item<double>();
    race_ce += lr.item<double>();
    ++window;
    if (metric && (step % 50 == 0 || step == o.steps)) {
      metric("judge/age_l1", age_l1 / window, step);
      metric("judge/race_ce", race_ce / window, step);
      age_l1 = race_ce = 0;
      window = 0;
    }
  }
}

// Held-out age error and race accuracy, in batches, into judge.metrics.
void measure_heldout(AttributeJudge& judge, const std::vector<FaceRecord>& heldout,
                     const MetricFn& metric) {
  const JudgeOptions& o = judge.options;
  const torch::Tensor h = load_uint8(heldout, o.size, o.threads);
  const torch::Tensor hages = labels(heldout, true) * 100.0, hraces = labels(heldout, false);
  std::vector<torch::Tensor> pa, pl;
  for (int64_t i = 0; i < h.size(0); i += 64) {
    torch::Tensor x = to_float(h.slice(0, i, std::min<int64_t>(i + 64, h.size(0))));
    pa.push_back(judge.age(x));
    pl.push_back(judge.race_logits(x));
  }
  const torch::Tensor age_pred = torch::cat(pa), logits = torch::cat(pl);
  const double mae = (age_pred - hages).abs().mean().item<double>();
  const double acc = logits.argmax(1).eq(hraces).to(torch::kFloat32).mean().item<double>();
  // White vs Black among faces labelled White or Black: the race task's two domains.
  const torch::Tensor wb = hraces.le(1);
  double wb_acc = -1;
  if (wb.sum().item<int64_t>() > 0)
    wb_acc = logits.slice(1, 0, 2)
                 .argmax(1)
                 .eq(hraces)
                 .masked_select(wb)
                 .to(torch::kFloat32)
                 .mean()
                 .item<double>();
  judge.metrics["heldout_age_mae"] = mae;
  judge.metrics["heldout_race_accuracy"] = acc;
  judge.metrics["heldout_white_black_accuracy"] = wb_acc;
  if (metric) {
    metric("judge/heldout_age_mae", mae, o.steps);
    metric("judge/heldout_race_accuracy", acc, o.steps);
  }
}

}  // namespace

AttributeJudge train_judge(const std::vector<FaceRecord>& train_all,
                           const std::vector<FaceRecord>& heldout_all, const JudgeOptions& o,
                           std::function<void(std::string, double, long)> metric) {
  if (train_all.empty()) throw std::invalid_argument("train_judge: no training images");
  for (const auto& r : train_all)
    if (r.race >= o.race_classes)
      throw std::invalid_argument("train_judge: race " + std::to_string(r.race) + " of " + r.path +
                                  " is outside race_classes=" + std::to_string(o.race_classes));
  torch::manual_seed(o.seed);
  AttributeJudge judge;
  judge.options = o;
  judge.nets = make_nets(o);

  const auto train = seeded_sample(train_all, o.max_images, seed_of(o.seed, 1));
  const auto heldout = seeded_sample(heldout_all, o.max_images / 2, seed_of(o.seed, 2));
  const torch::Tensor images = load_uint8(train, o.size, o.threads);
  fit(*judge.nets, images, labels(train, true), labels(train, false), o, metric);

  judge.metrics = {
      {"train_images", train.size()}, {"heldout_images", heldout.size()}, {"steps", o.steps}};
  if (!heldout.empty()) measure_heldout(judge, heldout, metric);
  return judge;
}

std::string judge_json_path(const std::string& path) {
  std::filesystem::path p(path);
  if (p.extension() == ".pt")
    p.replace_extension(".json");
  else
    p += ".json";
  return p.string();
}

void save_judge(const AttributeJudge& judge, const std::string& path) {
  require(judge);
  torch::serialize::OutputArchive root, age, race;
  judge.nets->age->save(age);
  judge.nets->race->save(race);
  root.write("age", age);
  root.write("race", race);
  const std::string tmp = path + ".tmp";
  root.save_to(tmp);
  std::filesystem::rename(tmp, path);
  const nlohmann::json j = {{"format", "facecycle-judge-1"},
                            {"options", options_json(judge.options)},
                            {"metrics", judge.metrics}};
  const std::string jpath = judge_json_path(path), jtmp = jpath + ".tmp";
  {
    std::ofstream f(jtmp);
    f << j.dump(2) << "\n";
    if (!f) throw std::runtime_error("save_judge: cannot write " + jtmp);
  }
  std::filesystem::rename(jtmp, jpath);
}

AttributeJudge load_judge(const std::string& path) {
  const std::string jpath = judge_json_path(path);
  std::ifstream f(jpath);
  if (!f)
    throw std::runtime_error("load_judge: cannot read " + jpath +
                             " (train the judge first; it is written beside " + path + ")");
  AttributeJudge judge;
  try {
    const nlohmann::json j = nlohmann::json::parse(f);
    if (j.value("format", "") != "facecycle-judge-1") throw std::runtime_error("unknown format");
    const auto& o = j.at("options");
    judge.options.size = o.at("size");
    judge.options.width = o.at("width");
    judge.options.steps = o.at("steps");
    judge.options.batch = o.at("batch");
    judge.options.lr = o.at("lr");
    judge.options.seed = o.at("seed");
    judge.options.max_images = o.at("max_images");
    judge.options.race_classes = o.at("race_classes");
    judge.metrics = j.value("metrics", nlohmann::json::object());
  } catch (const std::exception& e) {
    throw std::runtime_error("load_judge: " + jpath + " is not a judge description: " + e.what());
  }
  judge.nets = make_nets(judge.options);
  try {
    torch::serialize::InputArchive root, age, race;
    root.load_from(path);
    root.read("age", age);
    root.read("race", race);
    judge.nets->age->load(age);
    judge.nets->race->load(race);
  } catch (const std::exception& e) {
    throw std::runtime_error("load_judge: cannot load " + path + ": " + e.what());
  }
  judge.nets->age->eval();
  judge.nets->race->eval();
  return judge;
}

}  // namespace fc::train
