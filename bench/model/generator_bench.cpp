// Generator inference timing: ms/face and achieved conv GFLOP/s for one configuration.
// Prints one JSON line; bench/run_model_bench.sh runs it beside bench/reference/generator.py.
#include <ATen/Parallel.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "facecycle/core/model_file.h"
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
  std::string dump;
  app.add_option("--dump", dump,
                 "write DIR/model.pt (+card) and DIR/io.pt (x, cond, y) for "
                 "bench/reference/generator.py --verify DIR, then exit");
  CLI11_PARSE(app, argc, argv);

  at::set_num_threads(threads);
  fc::GeneratorOptions o;
  o.width = width;
  o.blocks = blocks;
  auto g = fc::make_seeded_generator(o, 1);
  g->eval();
  auto x = torch::rand({batch, 3, size, size}) * 2 - 1;
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
  std::cout << nlohmann::json{{"impl", "libtorch"},
                              {"width", width},
                              {"blocks", blocks},
                              {"size", size},
                              {"batch", batch},
                              {"threads", threads},
                              {"channels_last", channels_last},
                              {"iters", ms.size()},
                              {"ms_per_batch", median},
                              {"ms_per_face", median / batch},
                              {"min_ms_per_face", ms.front() / batch},
                              {"gflop_per_face", gflop},
                              {"gflops", gflop * batch / (median / 1e3)}}
                   .dump()
            << std::endl;
}
