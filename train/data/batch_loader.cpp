#include "data/batch_loader.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <map>
#include <numeric>
#include <stdexcept>
#include <thread>

#include "data/face_cache.h"
#include "data/seeded_rng.h"

namespace fc::train {
namespace {

int cache_side(const LoaderOptions& o) {
  if (o.cache_px > 0) return std::max(o.cache_px, o.size);
  return std::max(o.size, std::min(2 * o.size, 128));
}

// One augmentation draw, in the order the RNG has always been read (runs resume exactly).
Jitter draw_jitter(const LoaderOptions& o, int side, SeededRng& rng) {
  Jitter j;
  j.flip = rng.uniform() < 0.5;
  j.scale = 1.0 + rng.uniform(-o.scale_jitter, o.scale_jitter);
  j.tx = rng.uniform(-o.translate_jitter, o.translate_jitter) * side;
  j.ty = rng.uniform(-o.translate_jitter, o.translate_jitter) * side;
  return j;
}

}  // namespace

struct BatchLoader::Impl {
  LoaderOptions o;
  FaceCache cache;

  std::mutex mu;
  std::condition_variable cv_ready, cv_work;
  bool stop = false;
  int64_t position = 0;       // next batch handed out
  int64_t next_to_build = 0;  // next batch a worker starts
  uint64_t generation = 0;    // bumped by seek(): in-flight work from before is discarded
  std::map<int64_t, torch::Tensor> ready;
  std::map<int64_t, std::exception_ptr> failed;
  std::vector<std::thread> workers;

  // Epoch permutations, recomputed on demand (pure functions of seed and epoch).
  std::mutex perm_mu;
  std::map<int64_t, std::shared_ptr<const std::vector<uint32_t>>> perms;

  Impl(std::vector<std::string> paths, const LoaderOptions& opts)
      : o(opts), cache(std::move(paths), cache_side(opts)) {}

  std::shared_ptr<const std::vector<uint32_t>> permutation(int64_t epoch) {
    std::lock_guard<std::mutex> lock(perm_mu);
    auto it = perms.find(epoch);
    if (it != perms.end()) return it->second;
    std::vector<uint32_t> p(cache.size());
    std::iota(p.begin(), p.end(), 0u);
    SeededRng rng(seed_of(o.seed, 0x9e7e0c4ULL, static_cast<uint64_t>(epoch)));
    for (size_t i = p.size(); i > 1; --i) std::swap(p[i - 1], p[rng.below(i)]);
    if (perms.size() >= 4) perms.erase(perms.begin());
    return perms[epoch] = std::make_shared<const std::vector<uint32_t>>(std::move(p));
  }

  // Batch k: items k*B .. k*B+B-1 of the concatenated per-epoch permutations, where B is the
  // batch of all shards together and this shard builds its own rows of it.
  torch::Tensor build(int64_t k) {
    const int B = o.batch * o.shards, S = o.size;
    const int64_t n = static_cast<int64_t>(cache.size());
    torch::Tensor out = torch::empty({o.batch, 3, S, S}, torch::kFloat32);
    float* data = out.data_ptr<float>();
    for (int row = 0; row < o.batch; ++row) {
      const int j = o.shard * o.batch + row;
      const int64_t item = k * B + j;
      const uint32_t index = (*permutation(item / n))[item % n];
      const torch::Tensor& src = cache.get(index);
      SeededRng rng(seed_of(o.seed, static_cast<uint64_t>(k), static_cast<uint64_t>(j)));
      Jitter jitter;
      if (o.augment) jitter = draw_jitter(o, static_cast<int>(src.size(0)), rng);
      const torch::Tensor sized = jitter_and_resize(src, o.augment ? &jitter : nullptr, S);
      const uint8_t* rgb = sized.data_ptr<uint8_t>();
      float* plane = data + static_cast<int64_t>(row) * 3 * S * S;
      for (int y = 0; y < S; ++y)
        for (int x = 0; x < S; ++x)
          for (int ch = 0; ch < 3; ++ch)
            plane[ch * S * S + y * S + x] = rgb[(y * S + x) * 3 + ch] / 127.5f - 1.0f;
    }
    return out;
  }

  void worker_loop() {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      cv_work.wait(lock, [&] { return stop || next_to_build < position + o.prefetch; });
      if (stop) return;
      const int64_t k = next_to_build++;
      const uint64_t gen = generation;
      lock.unlock();
      torch::Tensor t;
      std::exception_ptr err;
      try {
        t = build(k);
      } catch (...) {
        err = std::current_exception();
      }
      lock.lock();
      if (gen != generation || k < position) continue;  // a seek made this batch stale
      if (err)
        failed[k] = err;
      else
        ready[k] = std::move(t);
      cv_ready.notify_all();
    }
  }
};

BatchLoader::BatchLoader(std::vector<std::string> paths, const LoaderOptions& o) {
  if (paths.empty()) throw std::invalid_argument("BatchLoader: no image files to load");
  if (o.size < 4 || o.batch < 1)
    throw std::invalid_argument("BatchLoader: size must be >= 4 and batch >= 1");
  if (o.shards < 1 || o.shard < 0 || o.shard >= o.shards)
    throw std::invalid_argument("BatchLoader: shard must be in [0, shards)");
  LoaderOptions opts = o;
  opts.prefetch = std::max(1, o.prefetch);
  impl_ = std::make_unique<Impl>(std::move(paths), opts);
  for (int i = 0; i < o.workers; ++i) impl_->workers.emplace_back([this] { impl_->worker_loop(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv_work.notify_all();
  for (auto& t : impl_->workers) t.join();
}

torch::Tensor BatchLoader::next() {
  Impl& m = *impl_;
  if (m.workers.empty()) {
    torch::Tensor t = m.build(m.position);
    ++m.position;
    return t;
  }
  std::unique_lock<std::mutex> lock(m.mu);
  const int64_t k = m.position;
  m.cv_ready.wait(lock, [&] { return m.ready.count(k) || m.failed.count(k); });
  if (auto f = m.failed.find(k); f != m.failed.end()) {
    std::exception_ptr err = f->second;
    m.failed.erase(f);
    // Leave position at k so the caller sees the same failure again if it retries.
    m.next_to_build = std::min(m.next_to_build, k);
    ++m.generation;
    m.ready.clear();
    m.failed.clear();
    lock.unlock();
    m.cv_work.notify_all();
    std::rethrow_exception(err);
  }
  torch::Tensor t = std::move(m.ready[k]);
  m.ready.erase(k);
  ++m.position;
  lock.unlock();
  m.cv_work.notify_all();
  return t;
}

int64_t BatchLoader::position() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->position;
}

void BatchLoader::seek(int64_t position) {
  if (position < 0) throw std::invalid_argument("BatchLoader::seek: position must be >= 0");
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->position = position;
    impl_->next_to_build = position;
    ++impl_->generation;
    impl_->ready.clear();
    impl_->failed.clear();
  }
  impl_->cv_work.notify_all();
}

}  // namespace fc::train
