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

int main(int argc, char** argv) {
  CLI::App app{"generator inference benchmark (LibTorch)"};
  int width = 32, blocks = 6, size = 128, batch = 1, threads = 1;
  bool channels_last = false;
  double min_time = 2.0;
  int min_iters = 3;
  app.add_option("--width", width);
  app.add_option("--blocks", blocks);
  app.add_option("--size", size);
  app.add_option("--batch", batch);
  app.add_option("--threads", threads);
  app.add_option("--channels-last", channels_last);
  app.add_option("--min-time", min_time, "seconds of timed runs (after one warm-up)");
  app.add_option("--min-iters", min_iters);
  std::string dtype = "fp32", model_path;
  app.add_option("--dtype", dtype, "fp32 | bf16 (bf16 weights and activations)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  app.add_option("--model", model_path, "time a trained model file (its width/blocks) instead");
  std::string dump;
  app.add_option("--dump", dump,
                 "write DIR/model.pt (+card) and DIR/io.pt (x, cond, y) for "
                 "bench/reference/generator.py --verify DIR, then exit");
  CLI11_PARSE(app, argc, argv);

  fc::use_torch_threads(threads);
  fc::GeneratorOptions o;
  o.width = width;
  o.blocks = blocks;
  auto make = [&] {
    if (model_path.empty()) return fc::make_seeded_generator(o, 1);
    return fc::load_model(model_path, torch::kCPU).generator;
  };
  auto g = make();
  g->eval();
  width = g->options().width;
  blocks = g->options().blocks;
  // Procedural faces rather than noise, so a trained model sees face-like input.
  auto x = torch::empty({batch, 3, size, size});
  for (int i = 0; i < batch; ++i) {
    cv::Mat face =
        fc::render_face(fc::random_identity(i + 1), {0.5f * (i % 3), 0.3f * (i % 4)}, size);
    auto t = torch::from_blob(face.data, {size, size, 3}, torch::kUInt8);
    x[i] = t.flip({2}).permute({2, 0, 1}).to(torch::kFloat) / 127.5 - 1;
  }
  auto cond = torch::arange(batch, torch::kLong).remainder(4);
  if (!dump.empty()) {
    torch::NoGradGuard no_grad;
    fc::ModelCard card;
    card.name = "bench-verify";
    card.conditions = fc::default_conditions();
    card.resolution = size;
    fc::save_model(dump + "/model.pt", g, card);
    torch::serialize::OutputArchive io;
    io.write("x", x, /*is_buffer=*/true);
    io.write("cond", cond, true);
    io.write("y", g->forward(x, cond), true);
    io.save_to(dump + "/io.pt");
    return 0;
  }
  if (channels_last) {
    fc::use_channels_last(g);
    x = x.contiguous(at::MemoryFormat::ChannelsLast);
  }

  torch::InferenceMode guard;
  double psnr = 0, max_diff = 0;
  if (dtype == "bf16") {
    auto y32 = g->forward(x, cond);
    g->to(torch::kBFloat16);
    x = x.to(torch::kBFloat16);
    auto d = (g->forward(x, cond).to(torch::kFloat) - y32).mul_(127.5);  // 8-bit levels
    max_diff = d.abs().max().item<double>();
    psnr = 10 * std::log10(255.0 * 255.0 / std::max(1e-12, d.pow(2).mean().item<double>()));
  }
  using clock = std::chrono::steady_clock;
  g->forward(x, cond);  // warm-up
  std::vector<double> ms;
  const auto start = clock::now();
  while (static_cast<int>(ms.size()) < min_iters ||
         std::chrono::duration<double>(clock::now() - start).count() < min_time) {
    const auto t0 = clock::now();
    auto y = g->forward(x, cond);
    ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  const double gflop = generator_flops_per_face(width, blocks, size) / 1e9;
  const double exec_gflop = generator_executed_flops_per_face(width, blocks, size) / 1e9;
  std::cout << nlohmann::json{{"impl", "libtorch"},
                              {"width", width},
                              {"blocks", blocks},
                              {"size", size},
                              {"batch", batch},
                              {"threads", threads},
                              {"channels_last", channels_last},
                              {"dtype", dtype},
                              {"model", model_path.empty() ? "seeded" : model_path},
                              {"bf16_psnr_db", psnr},
                              {"bf16_max_diff_levels", max_diff},
                              {"iters", ms.size()},
                              {"ms_per_batch", median},
                              {"ms_per_face", median / batch},
                              {"min_ms_per_face", ms.front() / batch},
                              {"gflop_per_face", gflop},
                              {"gflops", gflop * batch / (median / 1e3)},
                              {"exec_gflop_per_face", exec_gflop},
                              {"exec_gflops", exec_gflop * batch / (median / 1e3)}}
                   .dump()
            << std::endl;
}
