// Measured FP32 peak: independent fused multiply-adds on every core, so "% of peak" in the
// generator tables rests on what this CPU sustains (turbo included), not only on its nominal
// clock. Prints one JSON line: per-core and all-core GFLOP/s and the vector width used.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

constexpr int kAcc = 16;  // independent accumulators: covers FMA latency x pipes

__attribute__((target("avx512f"))) double fma_loop_avx512(long iters) {
  __m512 acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = _mm512_set1_ps(1.0f + i * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long n = 0; n < iters; ++n) {
#pragma GCC unroll 16  // fully unrolled, so the accumulators live in registers
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < kAcc; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) double fma_loop_avx2(long iters) {
  __m256 acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_set1_ps(1.0f + i * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long n = 0; n < iters; ++n) {
#pragma GCC unroll 16
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  float out[8];
  __m256 s = acc[0];
  for (int i = 1; i < kAcc; ++i) s = _mm256_add_ps(s, acc[i]);
  _mm256_storeu_ps(out, s);
  return out[0];
}

double gflops(int threads, bool avx512, long iters) {
  const int lanes = avx512 ? 16 : 8;
  std::vector<std::thread> pool;
  std::vector<double> sink(threads);
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] { sink[t] = avx512 ? fma_loop_avx512(iters) : fma_loop_avx2(iters); });
  for (auto& th : pool) th.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (sink[0] == 12345.0) std::puts("");  // keeps the loops
  return 2.0 * kAcc * lanes * double(iters) * threads / s / 1e9;
}

}  // namespace

int main() {
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  const long iters = 40'000'000;  // about 0.5 s per run at 3 GHz
  double one = 0, all = 0;
  for (int rep = 0; rep < 3; ++rep) {  // best of 3: the peak is what the core can do
    one = std::max(one, gflops(1, avx512, iters));
    all = std::max(all, gflops(cores, avx512, iters));
  }
  std::printf("{\"isa\": \"%s\", \"cores\": %d, \"gflops_1core\": %.1f, \"gflops_all\": %.1f}\n",
              avx512 ? "avx512" : "avx2", cores, one, all);
}
