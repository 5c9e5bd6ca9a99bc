// The one resident generator shared by all jobs, with dynamic batching: callers enqueue faces,
// a batcher thread runs up to max_batch of them (conditions mixed, one id per sample) per
// generator call and hands each result back through a future.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "facecycle/core/batch_observer.h"
#include "facecycle/core/change_shaping.h"
#include "facecycle/core/domain_gate.h"
#include "facecycle/core/model_file.h"
#include "facecycle/core/photo_tone.h"
#include "facecycle/core/torch_threads.h"
#include "facecycle/core/translator.h"

namespace fc {

namespace {

torch::Device pick_device(DeviceChoice requested) {
  if (requested == DeviceChoice::kCpu) return torch::kCPU;
  if (torch::cuda::is_available()) return torch::Device(torch::kCUDA, 0);
  if (requested == DeviceChoice::kCuda)
    throw std::runtime_error(
        "device 'cuda' requested but this LibTorch build sees no CUDA "
        "device; use device = \"cpu\" or \"auto\"");
  return torch::kCPU;
}

// BGR uint8 crop -> [3,R,R] float RGB in [-1,1].
torch::Tensor to_tensor(const cv::Mat& bgr, int resolution) {
  cv::Mat resized = bgr;
  if (bgr.rows != resolution || bgr.cols != resolution)
    cv::resize(bgr, resized, {resolution, resolution}, 0, 0,
               bgr.rows > resolution ? cv::INTER_AREA : cv::INTER_LINEAR);
  cv::Mat rgb;
  cv::cvtColor(resized, rgb, cv::COLOR_BGR2RGB);
  cv::Mat f;
  rgb.convertTo(f, CV_32FC3, 1.0 / 127.5, -1.0);
  return torch::from_blob(f.data, {resolution, resolution, 3}, torch::kFloat)
      .permute({2, 0, 1})
      .contiguous();
}

// [3,R,R] float in [-1,1] (CPU) -> BGR uint8 at `size`.
cv::Mat to_image(const torch::Tensor& chw, cv::Size size) {
  auto hwc = chw.add(1.0)
                 .mul_(127.5)
                 .round_()
                 .clamp_(0, 255)
                 .to(torch::kUInt8)
                 .permute({1, 2, 0})
                 .contiguous();
  cv::Mat rgb(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3,
              hwc.data_ptr<uint8_t>());
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);  // copies out of the tensor
  if (bgr.size() != size)
    cv::resize(bgr, bgr, size, 0, 0, size.width < bgr.cols ? cv::INTER_AREA : cv::INTER_LINEAR);
  return bgr;
}

// face + the generator's change (y - x), resized to the face: the edit at the face's own
// resolution, with the detail finer than the model's resolution kept from the face.
cv::Mat apply_change(const cv::Mat& face, const torch::Tensor& x, const torch::Tensor& y) {
  const auto change = (y - x).mul_(127.5).permute({1, 2, 0}).contiguous();
  cv::Mat rgb(static_cast<int>(change.size(0)), static_cast<int>(change.size(1)), CV_32FC3,
              change.data_ptr<float>());
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  if (bgr.size() != face.size())
    cv::resize(bgr, bgr, face.size(), 0, 0,
               face.cols < bgr.cols ? cv::INTER_AREA : cv::INTER_CUBIC);
  cv::Mat out;
  face.convertTo(out, CV_32FC3);
  out += bgr;
  out.convertTo(out, CV_8UC3);  // rounds and saturates
  return out;
}

// Throws std::invalid_argument, naming the caller, unless every face is a non-empty BGR image.
void require_bgr_faces(const std::vector<cv::Mat>& faces, const char* who) {
  for (const auto& f : faces)
    if (f.empty() || f.type() != CV_8UC3)
      throw std::invalid_argument(std::string(who) +
                                  ": every face must be a non-empty CV_8UC3 BGR image");
}

// One host-to-device copy per batch, cast first (bf16 halves the bytes). On CUDA the batch is
// staged in page-locked memory, so the copy is a DMA that does not go through a pageable bounce
// buffer, and non_blocking lets the copy overlap the launch of the generator's first kernels.
torch::Tensor to_device_batch(const std::vector<torch::Tensor>& inputs, const torch::Device& device,
                              torch::ScalarType dtype) {
  torch::Tensor x = torch::stack(inputs).to(dtype);
  if (!device.is_cuda()) return x;
  return x.pin_memory().to(device, /*non_blocking=*/true);
}

// kAuto is not a Precision: it picks one for this machine.
Precision pick_precision(PrecisionChoice requested, const torch::Device& device) {
  switch (requested) {
    case PrecisionChoice::kFp32:
      return Precision::kFp32;
    case PrecisionChoice::kBf16:
      return Precision::kBf16;
    case PrecisionChoice::kAuto:
      break;
  }
  // Every CUDA GPU this project targets (Ampere and later, the H200) runs bf16 natively.
  if (device.is_cuda()) return Precision::kBf16;
  return cpu_has_native_bf16() ? Precision::kBf16 : Precision::kFp32;
}

torch::ScalarType scalar_type(Precision p) {
  return p == Precision::kBf16 ? torch::kBFloat16 : torch::kFloat;
}

class TorchTranslator : public FaceTranslator {
 public:
  TorchTranslator(const std::string& model_path, const TranslatorOptions& options,
                  BatchObserver observer)
      : options_(options),
        observer_(std::move(observer)),
        device_(pick_device(options.device)),
        precision_(pick_precision(options.precision, device_)),
        dtype_(scalar_type(precision_)) {
    if (options_.max_batch < 1) options_.max_batch = 1;
    if (options_.max_wait_ms < 0) options_.max_wait_ms = 0;
    threads_ = options.threads > 0
                   ? options.threads
                   : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    auto loaded = load_model(model_path, device_);
    card_ = loaded.card;
    generator_ = loaded.generator;
    generator_->to(dtype_);
    const std::string gate = gate_path_for(model_path);
    if (std::filesystem::exists(gate)) gate_ = load_gate(gate);  // throws naming a bad one
    batcher_ = std::thread([this] { batch_loop(); });
  }

  ~TorchTranslator() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    batcher_.join();
  }

  TargetReading read_target(const std::vector<cv::Mat>& faces, const std::string& task,
                            bool reverse) override {
    const Condition& condition = card_.condition(task, reverse);  // throws for an unknown task
    const int index = gate_ ? gate_->spec().task_index(task) : -1;
    if (index < 0) return {};
    TargetReading reading;
    reading.skip_at = gate_->spec().skip_at;
    reading.target = condition.to;
    if (faces.empty()) return reading;
    std::vector<torch::Tensor> inputs;
    require_bgr_faces(faces, "read_target");
    for (const auto& f : faces) inputs.push_back(to_tensor(f, gate_->spec().size));
    torch::Tensor p;
    {
      // The gate is a few thousand multiply-adds a face: it runs on the caller's thread, on
      // the CPU, one caller at a time.
      std::lock_guard<std::mutex> lock(gate_mutex_);
      torch::InferenceMode inference;
      p = target_probability(gate_, torch::stack(inputs), index, reverse);
    }
    for (int64_t i = 0; i < p.size(0); ++i) reading.p_target.push_back(p[i].item<double>());
    return reading;
  }
  const ModelCard& card() const override { return card_; }
  std::string device() const override { return device_.str(); }
  std::string precision() const override { return enum_name(precision_); }
  TranslatorStats stats() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 protected:
  std::vector<cv::Mat> run_translate(const std::vector<cv::Mat>& faces, const std::string& task,
                                     bool reverse, double strength) override {
    const Condition& condition = card_.condition(task, reverse);  // throws for an unknown task
    require_bgr_faces(faces, "translate");

    std::vector<std::future<torch::Tensor>> results;
    results.reserve(faces.size());
    std::vector<Request> requests;
    requests.reserve(faces.size());
    std::vector<torch::Tensor> inputs;
    for (const auto& f : faces) {  // preprocessing runs on the caller's thread
      inputs.push_back(to_tensor(f, card_.resolution));
      requests.push_back({inputs.back(), condition.id, {}, {}});
      results.push_back(requests.back().result.get_future());
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto now = std::chrono::steady_clock::now();
      for (auto& r : requests) {
        r.queued_at = now;
        queue_.push_back(std::move(r));
      }
    }
    wake_.notify_all();

    std::vector<cv::Mat> out;
    out.reserve(faces.size());
    for (size_t i = 0; i < faces.size(); ++i) {
      torch::Tensor y = results[i].get();
      // strength carries the card's scale already (FaceTranslator::translate)
      y = shape_change(inputs[i], y, strength, condition.change_blur);
      cv::Mat edited = options_.keep_detail ? apply_change(faces[i], inputs[i], y)
                                            : to_image(y, faces[i].size());
      const auto tone = monochrome_tone(faces[i]);
      out.push_back(tone ? in_tone(edited, *tone) : edited);
    }
    return out;
  }

 private:
  struct Request {
    torch::Tensor input;  // [3,R,R]
    int64_t cond;
    std::promise<torch::Tensor> result;
    std::chrono::steady_clock::time_point queued_at;
  };

  void batch_loop() {
    use_torch_threads(threads_);  // the generator runs on this thread only
    torch::InferenceMode inference;
    for (;;) {
      std::vector<Request> batch;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.max_wait_ms);
        wake_.wait_until(lock, deadline, [&] {
          return stop_ || static_cast<int>(queue_.size()) >= options_.max_batch;
        });
        const size_t n = std::min(queue_.size(), static_cast<size_t>(options_.max_batch));
        for (size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        stats_.batches += 1;
        stats_.faces += static_cast<long long>(n);
        stats_.largest_batch = std::max(stats_.largest_batch, static_cast<int>(n));
      }
      observe(batch);
      run(batch);
    }
  }

  // Outside the lock: callers keep enqueueing while the observer records.
  void observe(const std::vector<Request>& batch) const {
    if (!observer_) return;
    BatchObservation o;
    o.size = static_cast<int>(batch.size());
    const auto taken = std::chrono::steady_clock::now();
    for (const auto& r : batch)
      o.queue_wait_s.push_back(std::chrono::duration<double>(taken - r.queued_at).count());
    try {
      observer_(o);
    } catch (...) {  // metrics must never fail a batch
    }
  }

  void run(std::vector<Request>& batch) {
    try {
      std::vector<torch::Tensor> inputs;
      std::vector<int64_t> conds;
      for (auto& r : batch) {
        inputs.push_back(r.input);
        conds.push_back(r.cond);
      }
      auto x = to_device_batch(inputs, device_, dtype_);
      auto cond = torch::tensor(conds, torch::kLong).to(device_);
      auto y = generator_->forward(x, cond).to(torch::kCPU, torch::kFloat);
      for (size_t i = 0; i < batch.size(); ++i) batch[i].result.set_value(y[i]);
    } catch (...) {
      for (auto& r : batch) r.result.set_exception(std::current_exception());
    }
  }

  TranslatorOptions options_;
  BatchObserver observer_;
  torch::Device device_;
  Precision precision_;
  torch::ScalarType dtype_;
  int threads_ = 1;
  ModelCard card_;
  ResnetGenerator generator_{nullptr};
  DomainGate gate_{nullptr};  // NAME.gate.safetensors beside the model, when there is one
  std::mutex gate_mutex_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Request> queue_;
  bool stop_ = false;
  TranslatorStats stats_;
  std::thread batcher_;
};

}  // namespace

bool cpu_has_native_bf16() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("flags", 0) == 0) return line.find(" avx512_bf16") != std::string::npos;
  return false;
}

std::shared_ptr<FaceTranslator> load_translator(const std::string& model_path,
                                                const TranslatorOptions& options) {
  return std::make_shared<TorchTranslator>(model_path, options, nullptr);
}

std::shared_ptr<FaceTranslator> load_translator(const std::string& model_path,
                                                const TranslatorOptions& options,
                                                BatchObserver observer) {
  return std::make_shared<TorchTranslator>(model_path, options, std::move(observer));
}

}  // namespace fc
