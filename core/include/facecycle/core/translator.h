// The shared generator as plugins and the daemon see it: no torch types, so stage plugins and
// the daemon compile without torch headers.
#pragma once

#include <cstdio>
#include <memory>
#include <opencv2/core.hpp>
#include <stdexcept>
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

// How far an edit may be pushed past the model as shipped. Beyond about 2 the change's own
// errors (blotches, tints) grow faster than the attribute does (docs/MODEL.md, "Edit strength").
constexpr double kMaxEditStrength = 3.0;

// Throws std::invalid_argument unless 0 <= strength <= kMaxEditStrength, saying the range.
// Inline: stage plugins call translate() and link no torch code.
inline void check_edit_strength(double strength) {
  if (strength >= 0.0 && strength <= kMaxEditStrength) return;  // NaN fails both
  char msg[128];
  std::snprintf(msg, sizeof msg, "edit strength %g is outside 0 to %g (1 = the model as shipped)",
                strength, kMaxEditStrength);
  throw std::invalid_argument(msg);
}

// What a model's domain gate reads of some faces for one direction (FaceTranslator::read_target).
struct TargetReading {
  // Per face, how likely it already is the direction's target (Black for White -> Black).
  std::vector<double> p_target;
  double skip_at = 1.0;  // a face at or above it is left unedited
  // The target domain's name, for messages ("Black"). Empty: the model has no gate for this
  // task, and every face is edited.
  std::string target;
  bool gated() const { return !target.empty(); }
};

class FaceTranslator {
 public:
  virtual ~FaceTranslator() = default;
  // faces: CV_8UC3 BGR crops of any equal square size. Each is resized to resolution(),
  // translated under the condition for (task, reverse), and returned at its input size
  // (see TranslatorOptions::keep_detail).
  // strength scales the generator's change (its output minus its input): 1 is the model as
  // shipped (the card's calibrated scale for this direction, Condition::scale), 0 hands the
  // face back, 1.5 pushes the edit half as far again. The generator runs once either way; the
  // scaling is a per-pixel extrapolation of its change.
  // Thread-safe: concurrent callers are batched together. Throws std::invalid_argument for an
  // unknown task or a strength outside [0, kMaxEditStrength].
  std::vector<cv::Mat> translate(const std::vector<cv::Mat>& faces, const std::string& task,
                                 bool reverse, double strength = 1.0) {
    check_edit_strength(strength);
    return run_translate(faces, task, reverse, strength * card().condition(task, reverse).scale);
  }
  // The model's domain gate on faces (CV_8UC3 BGR crops, as translate takes them) for the
  // direction (task, reverse): which already are its target. Thread-safe. A model without a
  // gate for the task returns an empty reading (docs/MODEL.md, "The domain gate"); with no
  // faces, the reading says only whether the task is gated and at what threshold.
  virtual TargetReading read_target(const std::vector<cv::Mat>& faces, const std::string& task,
                                    bool reverse) {
    (void)faces, (void)task, (void)reverse;
    return {};
  }
  virtual const ModelCard& card() const = 0;
  virtual std::string device() const = 0;                   // "cpu" or "cuda:0"
  virtual std::string precision() const { return "fp32"; }  // "fp32" or "bf16"
  virtual TranslatorStats stats() const { return {}; }

 protected:
  // translate() after its argument checks; strength is the one to apply to the generator's raw
  // change (the caller's times the card's scale).
  virtual std::vector<cv::Mat> run_translate(const std::vector<cv::Mat>& faces,
                                             const std::string& task, bool reverse,
                                             double strength) = 0;
};

struct TranslatorOptions {
  DeviceChoice device = DeviceChoice::kAuto;
  int threads = 0;      // CPU intra-op threads; 0 = number of cores
  int max_batch = 16;   // dynamic batching: largest batch
  int max_wait_ms = 5;  // dynamic batching: longest wait for a batch to fill
  // bf16 runs the generator about 1.9x faster on AVX512-BF16 CPUs at 50+ dB PSNR against fp32
  // (docs/BENCHMARKS.md); kAuto picks it on such CPUs and on CUDA GPUs.
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
