// A small portable RNG (splitmix64). std::*_distribution differ between standard libraries;
// this gives the same numbers everywhere, which batch-level determinism relies on.
#pragma once

#include <cstdint>

namespace fc::train {

inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A seed from several integers, e.g. (seed, batch index, item index).
inline uint64_t seed_of(uint64_t a, uint64_t b, uint64_t c = 0) {
  return mix64(mix64(mix64(a) ^ b) ^ c);
}

struct SeededRng {
  uint64_t state;
  explicit SeededRng(uint64_t seed) : state(seed) {}
  uint64_t next() { return mix64(state += 0x9e3779b97f4a7c15ULL); }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  uint64_t below(uint64_t n) { return next() % n; }
};

}  // namespace fc::train
