// Batches per second from the trainer's BatchLoader, as a training run consumes them: the first
// epoch (every face read and cached) and the epochs after (cache hits only), for each worker
// count and prefetch depth asked for, in one run. A GPU step that asks faster than this waits
// for its faces. Prints one JSON line per configuration.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "data/batch_loader.h"
#include "data/packed_faces.h"
#include "facecycle/core/torch_threads.h"

namespace {
using Clock = std::chrono::steady_clock;

double seconds_for(fc::train::BatchLoader& loader, int64_t batches) {
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < batches; ++i) loader.next();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Row {
  int workers, prefetch;
  double cold_ms, warm_ms;  // per batch
};

// One epoch cold, then `warm_batches` more from the cache, with a fresh loader (and cache).
Row measure(const std::vector<std::string>& paths, fc::train::LoaderOptions o, int warm_batches) {
  fc::train::BatchLoader loader(paths, o);
  const int64_t epoch = std::max<int64_t>(1, static_cast<int64_t>(paths.size()) / o.batch);
  const double cold = seconds_for(loader, epoch);
  const double warm = seconds_for(loader, warm_batches);
  return {o.workers, o.prefetch, 1000.0 * cold / epoch, 1000.0 * warm / warm_batches};
}

std::vector<std::string> face_paths(const std::string& data, size_t limit) {
  std::vector<std::string> paths;
  for (const auto& r : fc::train::scan_faces(data).records) paths.push_back(r.path);
  if (limit > 0 && paths.size() > limit) paths.resize(limit);
  return paths;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app(
      "facecycle data-loader benchmark: batches/s of augmented faces, first epoch and cached");
  std::string data = "../shared/data/utkface";
  int size = 128, batch = 32, threads = 2, warm_batches = 40;
  size_t limit = 2000;
  std::vector<int> workers{1, 2}, prefetch{2};
  app.add_option("--data", data, "a UTKFace folder or a face pack (scripts/pack_utkface.py)");
  app.add_option("--size", size, "face side in pixels");
  app.add_option("--batch", batch);
  app.add_option("--threads", threads, "torch intra-op threads (fc-train's `threads`)");
  app.add_option("--workers", workers, "loader worker threads, one row each")->delimiter(',');
  app.add_option("--prefetch", prefetch, "batches built ahead, one row each (the trainer's: 2)")
      ->delimiter(',');
  app.add_option("--limit", limit, "faces used (0: all); one epoch of them is the cold part");
  app.add_option("--warm-batches", warm_batches, "batches timed after the first epoch");
  CLI11_PARSE(app, argc, argv);

  for (std::vector<int>* list : {&workers, &prefetch}) {  // a script may name a value twice
    std::sort(list->begin(), list->end());
    list->erase(std::unique(list->begin(), list->end()), list->end());
  }
  fc::use_torch_threads(threads);
  const std::vector<std::string> paths = face_paths(data, limit);
  for (int p : prefetch)
    for (int w : workers) {
      fc::train::LoaderOptions o;
      o.size = size;
      o.batch = batch;
      o.workers = w;
      o.prefetch = p;
      o.cache_px = std::max(64, size);  // as the trainer sets it
      const Row r = measure(paths, o, warm_batches);
      std::printf(
          "{\"faces\": %zu, \"size\": %d, \"batch\": %d, \"threads\": %d, \"workers\": %d, "
          "\"prefetch\": %d, \"cold_ms_per_batch\": %.1f, \"warm_ms_per_batch\": %.1f, "
          "\"warm_faces_per_s\": %.0f}\n",
          paths.size(), size, batch, threads, r.workers, r.prefetch, r.cold_ms, r.warm_ms,
          1000.0 * batch / r.warm_ms);
      std::fflush(stdout);
    }
  return 0;
}
