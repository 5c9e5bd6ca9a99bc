// fc-gpu-bench: the generator on a CUDA device (or the CPU in a rehearsal). Two jobs, each one
// JSON document:
//   --compare: the same seeded weights and input on the CPU (fp32) and the device (fp32 with
//              TF32 off, and bf16); passes when the fp32 difference is within --tolerance.
//   --bench:   faces/s and achieved TFLOP/s at each size x batch x dtype, with % of the given
//              peak (docs/GPU.md). Timings synchronise the device around each batch.
#include <torch/cuda.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "facecycle/core/networks.h"
#include "generator_flops.h"

using nlohmann::json;

namespace {

struct Args {
  std::string device = "auto", out, dtypes = "fp32,bf16";
  std::vector<int> sizes{64, 128, 256}, batches{1, 8, 32, 64, 128, 256};
  int width = 32, blocks = 6, compare_size = 128, compare_batch = 4;
  double min_time = 0.5, tolerance = 2e-3, peak_bf16 = 790, peak_fp32 = 67;
  bool compare = false, bench = false;
};

torch::Device pick_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (torch::cuda::is_available()) return torch::Device(torch::kCUDA, 0);
  if (name == "cuda") throw std::runtime_error("--device cuda: no CUDA device is visible");
  return torch::kCPU;
}

void sync(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize();
}

fc::ResnetGenerator make_generator(const Args& a) {
  fc::GeneratorOptions o;
  o.width = a.width;
  o.blocks = a.blocks;
  auto g = fc::make_seeded_generator(o, 1);
  g->eval();
  return g;
}

// Max |difference| and PSNR in 8-bit levels between two outputs in [-1, 1].
json difference(const torch::Tensor& a, const torch::Tensor& b) {
  auto d = (a.to(torch::kCPU, torch::kFloat32) - b.to(torch::kCPU, torch::kFloat32)).mul(127.5);
  const double mse = std::max(1e-12, d.pow(2).mean().item<double>());
  return {{"max_abs", d.abs().max().item<double>() / 127.5},
          {"psnr_db", 10 * std::log10(255.0 * 255.0 / mse)}};
}

json run_compare(const Args& a, const torch::Device& dev) {
  torch::InferenceMode guard;
  at::globalContext().setAllowTF32CuDNN(false);  // plain fp32 on both sides
  at::globalContext().setAllowTF32CuBLAS(false);
  auto gen = at::detail::createCPUGenerator(7);
  auto x = torch::rand({a.compare_batch, 3, a.compare_size, a.compare_size}, gen) * 2 - 1;
  auto cond = torch::arange(a.compare_batch, torch::kLong).remainder(4);
  auto g = make_generator(a);
  const auto y_cpu = g->forward(x, cond);
  g->to(dev);
  const auto y_dev = g->forward(x.to(dev), cond.to(dev));
  g->to(torch::kBFloat16);
  const auto y_bf16 = g->forward(x.to(dev, torch::kBFloat16), cond.to(dev));
  json r = {{"device", dev.str()},
            {"size", a.compare_size},
            {"batch", a.compare_batch},
            {"fp32_vs_cpu", difference(y_dev, y_cpu)},
            {"bf16_vs_cpu_fp32", difference(y_bf16, y_cpu)},
            {"tolerance_max_abs", a.tolerance}};
  r["pass"] = r["fp32_vs_cpu"]["max_abs"].get<double>() <= a.tolerance;
  return r;
}

json time_one(fc::ResnetGenerator& g, const Args& a, const torch::Device& dev, int size, int batch,
              torch::ScalarType dtype) {
  auto x = torch::rand({batch, 3, size, size}).mul(2).sub(1).to(dev, dtype);
  if (dev.is_cuda()) x = x.contiguous(at::MemoryFormat::ChannelsLast);
  auto cond = torch::arange(batch, torch::kLong).remainder(4).to(dev);
  using clock = std::chrono::steady_clock;
  g->forward(x, cond);  // warm-up: cuDNN picks its algorithms here
  sync(dev);
  std::vector<double> ms;
  const auto start = clock::now();
  while (ms.size() < 3 ||
         std::chrono::duration<double>(clock::now() - start).count() < a.min_time) {
    const auto t0 = clock::now();
    g->forward(x, cond);
    sync(dev);
    ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  const double faces_s = batch / (median / 1e3);
  const double tflops = generator_flops_per_face(a.width, a.blocks, size) * faces_s / 1e12;
  const double peak = dtype == torch::kBFloat16 ? a.peak_bf16 : a.peak_fp32;
  return {{"size", size},
          {"batch", batch},
          {"dtype", dtype == torch::kBFloat16 ? "bf16" : "fp32"},
          {"iters", ms.size()},
          {"ms_per_batch", median},
          {"faces_per_s", faces_s},
          {"tflops", tflops},
          {"peak_tflops", peak},
          {"pct_of_peak", 100 * tflops / peak}};
}

json run_bench(const Args& a, const torch::Device& dev) {
  torch::InferenceMode guard;
  at::globalContext().setBenchmarkCuDNN(true);
  json rows = json::array();
  for (const std::string dt : {"fp32", "bf16"}) {
    if (a.dtypes.find(dt) == std::string::npos) continue;
    const auto dtype = dt == "bf16" ? torch::kBFloat16 : torch::kFloat32;
    auto g = make_generator(a);
    g->to(dev, dtype);
    if (dev.is_cuda()) fc::use_channels_last(g);
    for (int size : a.sizes)
      for (int batch : a.batches) {
        rows.push_back(time_one(g, a, dev, size, batch, dtype));
        std::cerr << rows.back().dump() << std::endl;
      }
  }
  return {{"device", dev.str()},
          {"width", a.width},
          {"blocks", a.blocks},
          {"gflop_per_face_128", generator_flops_per_face(a.width, a.blocks, 128) / 1e9},
          {"fp32_note", "TF32 off in --compare; cuDNN may use TF32 for fp32 here (its default)"},
          {"rows", rows}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fc-gpu-bench: generator CUDA-vs-CPU check and throughput"};
  Args a;
  app.add_flag("--compare", a.compare, "CPU vs device outputs for the same weights");
  app.add_flag("--bench", a.bench, "faces/s per size x batch x dtype");
  app.add_option("--device", a.device, "auto | cpu | cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_option("--sizes", a.sizes)->delimiter(',');
  app.add_option("--batches", a.batches)->delimiter(',');
  app.add_option("--dtypes", a.dtypes, "fp32,bf16");
  app.add_option("--width", a.width);
  app.add_option("--blocks", a.blocks);
  app.add_option("--compare-size", a.compare_size);
  app.add_option("--min-time", a.min_time, "seconds of timed batches per row");
  app.add_option("--tolerance", a.tolerance, "max |fp32 device - fp32 CPU| in [-1,1] units");
  app.add_option("--peak-bf16", a.peak_bf16, "TFLOP/s for % of peak (H200 dense: ~790)");
  app.add_option("--peak-fp32", a.peak_fp32, "TFLOP/s for % of peak (H200 fp32: ~67)");
  app.add_option("--out", a.out, "write the JSON here as well as to stdout");
  CLI11_PARSE(app, argc, argv);
  try {
    const torch::Device dev = pick_device(a.device);
    json r = {{"libtorch", TORCH_VERSION}, {"cuda_available", torch::cuda::is_available()}};
    if (a.compare) r["compare"] = run_compare(a, dev);
    if (a.bench) r["bench"] = run_bench(a, dev);
    std::cout << r.dump(2) << std::endl;
    if (!a.out.empty()) std::ofstream(a.out) << r.dump(2) << "\n";
    return a.compare && !r["compare"]["pass"].get<bool>() ? 1 : 0;
  } catch (const std::exception& e) {
    std::cerr << "fc-gpu-bench: " << e.what() << std::endl;
    return 2;
  }
}
