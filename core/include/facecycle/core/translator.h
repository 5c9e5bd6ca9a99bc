// The shared generator as plugins and the daemon see it: no torch types, so stage plugins and
// the daemon compile without torch headers.
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "facecycle/core/device_choice.h"
#include "facecycle/core/model_card.h"

namespace fc {

// Counters of the dynamic batcher (for tests, logs and metrics).
struct TranslatorStats {
  long long batches = 0;  // generator calls
  long long faces = 0;    // faces translated
  int largest_batch = 0;
};

class FaceTranslator {
 public:
  virtual ~FaceTranslator() = default;
  // faces: CV_8UC3 BGR crops of any equal square size. Each is resized to resolution(),
  // translated under the condition for (task, reverse), and returned at its input size
  // (see TranslatorOptions::keep_detail).
  // Thread-safe: concurrent callers are batched together. Throws std::invalid_argument for an
  // unknown task.
  virtual std::vector<cv::Mat> translate(const std::vector<cv::Mat>& faces, const std::string& task,
                                         bool reverse) = 0;
  virtual const ModelCard& card() const = 0;
  virtual std::string device() const = 0;                   // "cpu" or "cuda:0"
  virtual std::string precision() const { return "fp32"; }  // "fp32" or "bf16"
  virtual TranslatorStats stats() const { return {}; }
};

struct TranslatorOptions {
  DeviceChoice device = DeviceChoice::kAuto;
  int threads = 0;      // CPU intra-op threads; 0 = number of cores
  int max_batch = 16;   // dynamic batching: largest batch
  int max_wait_ms = 5;  // dynamic batching: longest wait for a batch to fill
  // bf16 runs the generator about 1.9x faster on AVX512-BF16 CPUs at 50+ dB PSNR against fp32
  // (docs/BENCHMARKS.md); kAuto picks it on such CPUs.
  PrecisionChoice precision = PrecisionChoice::kFp32;
  // true: a face larger than the model's resolution gets the generator's change (output minus
  // input, at the model's resolution) resized and added, so detail finer than the model keeps
  // its sharpness. false: the generator's output is resized to the face (soft at 64 px models).
  bool keep_detail = true;
};

// True when this CPU has native bf16 dot products (AVX512-BF16), where oneDNN runs bf16
// convolutions at about twice the fp32 rate.
bool cpu_has_native_bf16();

// Loads NAME.pt with NAME.card.json beside it (see model_file.h). Throws std::runtime_error
// with a clear message when the file or its card is missing or they disagree.
std::shared_ptr<FaceTranslator> load_translator(const std::string& model_path,
                                                const TranslatorOptions& options);

}  // namespace fc
