#include "rank_streams.h"

#include <cstring>
#include <sstream>

#include "checkpoint_io.h"

namespace fc::train {
namespace {

torch::Tensor bytes_tensor(const std::string& bytes) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  std::memcpy(t.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  return t;
}

std::string tensor_bytes(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous().to(torch::kCPU);
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), c.numel());
}

}  // namespace

std::string save_rank_streams(const TrainState& s) {
  torch::serialize::OutputArchive a;
  nlohmann::json rngs = nlohmann::json::array();
  for (const TaskState& t : s.tasks) {
    a.write("pool_fake_A/" + t.name, t.pool_fake_A->stacked());
    a.write("pool_fake_B/" + t.name, t.pool_fake_B->stacked());
    rngs.push_back({t.pool_fake_A->rng_state(), t.pool_fake_B->rng_state()});
  }
  write_json(a, "pool_rngs", rngs);
  a.write("torch_rng", get_cpu_rng_state());
  std::ostringstream out;
  a.save_to(out);
  return out.str();
}

void load_rank_streams(TrainState& s, const std::string& bytes) {
  torch::serialize::InputArchive a;
  a.load_from(bytes.data(), bytes.size());
  const nlohmann::json rngs = read_json(a, "pool_rngs");
  for (size_t i = 0; i < s.tasks.size(); ++i) {
    TaskState& t = s.tasks[i];
    torch::Tensor images;
    a.read("pool_fake_A/" + t.name, images);
    t.pool_fake_A->load(images);
    a.read("pool_fake_B/" + t.name, images);
    t.pool_fake_B->load(images);
    t.pool_fake_A->set_rng_state(rngs.at(i).at(0).get<std::string>());
    t.pool_fake_B->set_rng_state(rngs.at(i).at(1).get<std::string>());
  }
  torch::Tensor rng;
  a.read("torch_rng", rng);
  set_cpu_rng_state(rng);
}

void write_rank_streams(torch::serialize::OutputArchive& a,
                        const std::vector<std::string>& others) {
  write_json(a, "data_parallel", {{"workers", others.size() + 1}});
  for (size_t i = 0; i < others.size(); ++i)
    a.write("rank_streams/" + std::to_string(i + 1), bytes_tensor(others[i]));
}

std::optional<std::string> read_rank_streams(torch::serialize::InputArchive& a, int rank) {
  torch::Tensor t;
  if (!a.try_read("rank_streams/" + std::to_string(rank), t)) return std::nullopt;
  return tensor_bytes(t);
}

}  // namespace fc::train
