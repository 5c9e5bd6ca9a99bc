#include "train_state.h"

#include <ATen/CPUGeneratorImpl.h>

#include <functional>

#include "checkpoint_io.h"

namespace fc::train {
namespace {

using nlohmann::json;
using torch::serialize::InputArchive;
using torch::serialize::OutputArchive;
using TensorGet = std::function<torch::Tensor()>;
using TensorSet = std::function<void(const torch::Tensor&)>;
using ValueGet = std::function<json()>;
using ValueSet = std::function<void(const json&)>;

const char* const kStage = "stage";  // read before load() too (saved_stage)

// Modules and optimisers go in as sub-archives, tensors as themselves, and the JSON values
// together in the "state" entry.
struct Saver {
  OutputArchive& archive;
  json state = json::object();

  template <typename Serializable>
  void nested(const std::string& key, const Serializable& s) {
    OutputArchive sub;
    s.save(sub);
    archive.write(key, sub);
  }
  void tensor(const std::string& key, const TensorGet& get, const TensorSet&) {
    archive.write(key, get());
  }
  void value(const std::string& key, const ValueGet& get, const ValueSet&) { state[key] = get(); }
};

struct Loader {
  InputArchive& archive;
  json state = read_json(archive, "state");

  template <typename Serializable>
  void nested(const std::string& key, Serializable& s) {
    InputArchive sub;
    archive.read(key, sub);
    s.load(sub);
  }
  void tensor(const std::string& key, const TensorGet&, const TensorSet& set) {
    torch::Tensor t;
    archive.read(key, t);
    set(t);
  }
  // Entries that older checkpoints lack arrive as null.
  void value(const std::string& key, const ValueGet&, const ValueSet& set) {
    set(state.contains(key) ? state.at(key) : json());
  }
};

// The JSON part of a checkpoint.
template <typename Visitor>
void visit_progress(TrainState& s, Visitor& v) {
  v.value(
      "steps_done", [&] { return json(s.steps_done); },
      [&](const json& j) { s.steps_done = j.get<long>(); });
  v.value(
      kStage, [&] { return json(s.stage); }, [&](const json& j) { s.stage = j.get<int>(); });
  v.value(
      "wall_s", [&] { return json(s.wall_s()); },
      [&](const json& j) { s.wall_before_s = j.get<double>(); });
  v.value(
      "balancer", [&] { return s.balancer->state(); },
      [&](const json& j) { s.balancer->load_state(j); });
  v.value(
      "history", [&] { return s.losses.history_json(); },
      [&](const json& j) { s.losses.load_history(j); });
  v.value(
      "history_acc", [&] { return s.losses.means_json(); },
      [&](const json& j) { s.losses.load_means(j); });
  v.value(
      "last_eval", [&] { return s.last_eval; },
      [&](const json& j) { s.last_eval = j.is_null() ? json::object() : j; });
}

// The loaders' positions and the pools' RNGs, one [A, B] pair per task in config order.
template <typename Visitor>
void visit_streams(TrainState& s, Visitor& v) {
  v.value(
      "loaders",
      [&] {
        json a = json::array();
        for (auto& t : s.tasks) a.push_back({t.loader_A->position(), t.loader_B->position()});
        return a;
      },
      [&](const json& j) {
        for (size_t i = 0; i < s.tasks.size(); ++i) {
          s.tasks[i].loader_A->seek(j.at(i).at(0).get<int64_t>());
          s.tasks[i].loader_B->seek(j.at(i).at(1).get<int64_t>());
        }
      });
  v.value(
      "pools",
      [&] {
        json a = json::array();
        for (auto& t : s.tasks)
          a.push_back({t.pool_fake_A->rng_state(), t.pool_fake_B->rng_state()});
        return a;
      },
      [&](const json& j) {
        for (size_t i = 0; i < s.tasks.size(); ++i) {
          s.tasks[i].pool_fake_A->set_rng_state(j.at(i).at(0).get<std::string>());
          s.tasks[i].pool_fake_B->set_rng_state(j.at(i).at(1).get<std::string>());
        }
      });
  // For readers of the file; a load rebuilds the discriminators at the saved stage's depth.
  v.value(
      "d_layers", [&] { return json(s.tasks.front().d_layers); }, [](const json&) {});
}

template <typename Visitor>
void visit_task(TaskState& t, Visitor& v) {
  v.nested("D_A/" + t.name, *t.D_A);
  v.nested("D_B/" + t.name, *t.D_B);
  if (t.D_A_local) {
    v.nested("D_A_local/" + t.name, *t.D_A_local);
    v.nested("D_B_local/" + t.name, *t.D_B_local);
  }
  v.nested("optD/" + t.name, *t.optD);
  if (t.C) {
    v.nested("C/" + t.name, *t.C);
    v.nested("optC/" + t.name, *t.optC);
  }
  v.tensor(
      "pool_fake_A/" + t.name, [&] { return t.pool_fake_A->stacked(); },
      [&](const torch::Tensor& x) { t.pool_fake_A->load(x); });
  v.tensor(
      "pool_fake_B/" + t.name, [&] { return t.pool_fake_B->stacked(); },
      [&](const torch::Tensor& x) { t.pool_fake_B->load(x); });
}

// Every entry of a checkpoint, once.
template <typename Visitor>
void visit_checkpoint(TrainState& s, Visitor& v) {
  visit_progress(s, v);
  visit_streams(s, v);
  v.nested("G", *s.G);
  v.nested("optG", *s.optG);
  if (s.G_ema) v.nested("G_ema", *s.G_ema);
  for (auto& t : s.tasks) visit_task(t, v);
  // Last, so that nothing loaded after it can move the stream the saved run had.
  v.tensor("torch_rng", get_cpu_rng_state, set_cpu_rng_state);
}

}  // namespace

at::Tensor get_cpu_rng_state() { return at::detail::getDefaultCPUGenerator().get_state(); }
void set_cpu_rng_state(const at::Tensor& s) {
  at::Generator g = at::detail::getDefaultCPUGenerator();
  g.set_state(s.to(torch::kCPU));  // a checkpoint read onto the GPU brings it there
}

double TrainState::wall_s() const {
  return wall_before_s + std::chrono::duration<double>(Clock::now() - started).count();
}

void TrainState::save(OutputArchive& archive) const {
  Saver saver{archive};
  visit_checkpoint(const_cast<TrainState&>(*this), saver);  // the saver only reads
  write_json(archive, "state", saver.state);
}

void TrainState::load(InputArchive& archive) {
  Loader loader{archive};
  visit_checkpoint(*this, loader);
}

int TrainState::saved_stage(InputArchive& archive) {
  return read_json(archive, "state").at(kStage).get<int>();
}

}  // namespace fc::train
