// Generator inference timing: ms/face and achieved conv GFLOP/s for one configuration.
// Prints one JSON line; bench/run_model_bench.sh runs it beside bench/reference/generator.py.
// --dtype bf16 also reports how far the bf16 output is from fp32 on the same input (PSNR in
// 8-bit units), on procedural faces and, with --model, a trained generator.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "facecycle/core/model_file.h"
#include "facecycle/core/synthetic_faces.h"
#include "facecycle/core/torch_threads.h"
#include "generator_flops.h"

namespace {

struct Args {
  int width = 32, blocks = 6, size = 128, batch = 1, threads = 1;
  bool channels_last = false;
  double min_time = 2.0;
  int min_iters = 3;
  std::string dtype = "fp32", model_path, dump;
};

void add_args(CLI::App& app, Args& a) {
  app.add_option("--width", a.width);
  app.add_option("--blocks", a.blocks);
  app.add_option("--size", a.size);
  app.add_option("--batch", a.batch);
  app.add_option("--threads", a.threads);
  app.add_option("--channels-last", a.channels_last);
  app.add_option("--min-time", a.min_time, "seconds of timed runs (after one warm-up)");
  app.add_option("--min-iters", a.min_iters);
  app.add_option("--dtype", a.dtype, "fp32 | bf16 (bf16 weights and activations)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  app.add_option("--model", a.model_path, "time a trained model file (its width/blocks) instead");
  app.add_option("--dump", a.dump,
                 "write DIR/model.pt (+card) and DIR/io.pt (x, cond, y) for "
                 "bench/reference/generator.py --verify DIR, then exit");
}

// Procedural faces rather than noise, so a trained model sees face-like input.
torch::Tensor face_batch(int batch, int size) {
  auto x = torch::empty({batch, 3, size, size});
  for (int i = 0; i < batch; ++i) {
    cv::Mat face =
        fc::render_face(fc::random_identity(i + 1), {0.5f * (i % 3), 0.3f * (i % 4)}, size);
    auto t = torch::from_blob(face.data, {size, size, 3}, torch::kUInt8);
    x[i] = t.flip({2}).permute({2, 0, 1}).to(torch::kFloat) / 127.5 - 1;
  }
  return x;
}

// The model, its input and its output, for the Python reference to check against.
void dump_for_reference(const std::string& dir, fc::ResnetGenerator& g, const torch::Tensor& x,
                        const torch::Tensor& cond, int size) {
  torch::NoGradGuard no_grad;
  fc::ModelCard card;
  card.name = "bench-verify";
  card.conditions = fc::default_conditions();
  card.resolution = size;
  fc::save_model(dir + "/model.pt", g, card);
  torch::serialize::OutputArchive io;
  io.write("x", x, /*is_buffer=*/true);
  io.write("cond", cond, true);
  io.write("y", g->forward(x, cond), true);
  io.save_to(dir + "/io.pt");
}

struct Bf16Error {
  double psnr = 0, max_diff = 0;  // in 8-bit levels
};

// Moves g and x to bf16 and says how far its output moved from fp32's on the same input.
Bf16Error switch_to_bf16(fc::ResnetGenerator& g, torch::Tensor& x, const torch::Tensor& cond) {
  auto y32 = g->forward(x, cond);
  g->to(torch::kBFloat16);
  x = x.to(torch::kBFloat16);
  auto d = (g->forward(x, cond).to(torch::kFloat) - y32).mul_(127.5);  // 8-bit levels
  Bf16Error e;
  e.max_diff = d.abs().max().item<double>();
  e.psnr = 10 * std::log10(255.0 * 255.0 / std::max(1e-12, d.pow(2).mean().item<double>()));
  return e;
}

// Milliseconds per forward, sorted, after one warm-up: at least min_iters runs and min_time s.
std::vector<double> time_forward(fc::ResnetGenerator& g, const torch::Tensor& x,
                                 const torch::Tensor& cond, const Args& a) {
  using clock = std::chrono::steady_clock;
  g->forward(x, cond);  // warm-up
  std::vector<double> ms;
  const auto start = clock::now();
  while (static_cast<int>(ms.size()) < a.min_iters ||
         std::chrono::duration<double>(clock::now() - start).count() < a.min_time) {
    const auto t0 = clock::now();
    auto y = g->forward(x, cond);
    ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms;
}

nlohmann::json report(const Args& a, const Bf16Error& e, const std::vector<double>& ms) {
  const double median = ms[ms.size() / 2];
  const double gflop = generator_flops_per_face(a.width, a.blocks, a.size) / 1e9;
  const double exec_gflop = generator_executed_flops_per_face(a.width, a.blocks, a.size) / 1e9;
  return {{"impl", "libtorch"},
          {"width", a.width},
          {"blocks", a.blocks},
          {"size", a.size},
          {"batch", a.batch},
          {"threads", a.threads},
          {"channels_last", a.channels_last},
          {"dtype", a.dtype},
          {"model", a.model_path.empty() ? "seeded" : a.model_path},
          {"bf16_psnr_db", e.psnr},
          {"bf16_max_diff_levels", e.max_diff},
          {"iters", ms.size()},
          {"ms_per_batch", median},
          {"ms_per_face", median / a.batch},
          {"min_ms_per_face", ms.front() / a.batch},
          {"gflop_per_face", gflop},
          {"gflops", gflop * a.batch / (median / 1e3)},
          {"exec_gflop_per_face", exec_gflop},
          {"exec_gflops", exec_gflop * a.batch / (median / 1e3)}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"generator inference benchmark (LibTorch)"};
  Args a;
  add_args(app, a);
  CLI11_PARSE(app, argc, argv);

  fc::use_torch_threads(a.threads);
  fc::GeneratorOptions o;
  o.width = a.width;
  o.blocks = a.blocks;
  auto g = a.model_path.empty() ? fc::make_seeded_generator(o, 1)
                                : fc::load_model(a.model_path, torch::kCPU).generator;
  g->eval();
  a.width = g->options().width;
  a.blocks = g->options().blocks;
  auto x = face_batch(a.batch, a.size);
  auto cond = torch::arange(a.batch, torch::kLong).remainder(4);
  if (!a.dump.empty()) {
    dump_for_reference(a.dump, g, x, cond, a.size);
    return 0;
  }
  if (a.channels_last) {
    fc::use_channels_last(g);
    x = x.contiguous(at::MemoryFormat::ChannelsLast);
  }
  torch::InferenceMode guard;
  const Bf16Error e = a.dtype == "bf16" ? switch_to_bf16(g, x, cond) : Bf16Error{};
  const std::vector<double> ms = time_forward(g, x, cond, a);
  std::cout << report(a, e, ms).dump() << std::endl;
}
