// Batches of augmented face images, decoded and augmented by worker threads ahead of time.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fc::train {

struct LoaderOptions {
  int size = 64;  // output side in pixels
  int batch = 8;
  bool augment = true;  // random horizontal flip + scale/translate jitter
  uint64_t seed = 1;
  int workers = 2;                 // decoding/augmenting threads (0: build batches on the caller)
  int prefetch = 4;                // batches prepared ahead
  float scale_jitter = 0.05f;      // +-fraction
  float translate_jitter = 0.05f;  // +-fraction of the side
  // Decoded images are kept in memory at this side (uint8 BGR) so later epochs never decode
  // again; 0: max(size, min(2 * size, 128)).
  int cache_px = 0;
  // Data-parallel workers (data_parallel.h): the loader yields rows [shard * batch, (shard + 1)
  // * batch) of the batches that one loader with batch * shards rows would draw, so N workers
  // together see exactly what one process with the N-fold batch sees.
  int shard = 0;
  int shards = 1;
};

// Batch k is a pure function of (seed, k, paths): its file choice and augmentation come from an
// RNG seeded by (seed, k), so results never depend on thread timing and seek() resumes exactly.
// An unreadable file throws fc::ImageError from next() naming the file.
class BatchLoader {
 public:
  BatchLoader(std::vector<std::string> paths, const LoaderOptions& o);
  ~BatchLoader();  // stops the workers cleanly
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  torch::Tensor next();         // [B,3,S,S] float32 RGB in [-1,1]
  int64_t position() const;     // batches handed out so far
  void seek(int64_t position);  // the next call to next() returns batch `position`

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fc::train
