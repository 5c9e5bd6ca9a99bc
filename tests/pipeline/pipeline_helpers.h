// Shared by the pipeline tests: stage plugins loaded through the real ABI, fake translators and
// procedurally drawn faces.
#pragma once

#include <dlfcn.h>
#include <facecycle/plugin.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <opencv2/imgproc.hpp>
#include <string>

namespace fc::testing {

// Loads FC_PLUGIN_DIR/<name>.so and creates its stage with `toml` as its [plugins.NAME] table,
// e.g. "detector = \"haar\"\nmin_face = 40". The library stays loaded.
inline std::unique_ptr<Stage> load_stage(const std::string& name, const std::string& toml = "") {
  const std::string path = std::string(FC_PLUGIN_DIR) + "/" + name + ".so";
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw std::runtime_error("cannot load " + path + ": " + ::dlerror());
  auto entry =
      reinterpret_cast<FacecyclePluginEntryFn>(::dlsym(handle, FACECYCLE_PLUGIN_ENTRY_SYMBOL));
  if (!entry) throw std::runtime_error(path + " has no entry point");
  const FacecyclePluginInfo* info = entry();
  if (info->abi_version != FACECYCLE_PLUGIN_ABI_VERSION || !info->create_stage)
    throw std::runtime_error(path + " is not a stage plugin of this ABI");
  if (name != info->name) throw std::runtime_error(path + " calls itself " + info->name);
  return std::unique_ptr<Stage>(info->create_stage(PluginConfig{name, toml}));
}

// A translator without torch: returns each crop changed by `fn`, and counts calls.
class FakeTranslator : public FaceTranslator {
 public:
  using Fn = std::function<cv::Mat(const cv::Mat&)>;
  FakeTranslator(Fn fn, int resolution = 128) : fn_(std::move(fn)) {
    card_.name = "fake";
    card_.resolution = resolution;
    card_.conditions = default_conditions();
  }
  std::vector<cv::Mat> run_translate(const std::vector<cv::Mat>& faces, const std::string& task,
                                     bool reverse, double strength) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++calls;
    last_task = task;
    last_strength = strength;
    last_batch = int(faces.size());
    std::vector<cv::Mat> out;
    for (const auto& f : faces) out.push_back(fn_(f));
    return out;
  }
  // The gate's reading of each face, in the order the faces come (empty: no gate).
  TargetReading read_target(const std::vector<cv::Mat>& faces, const std::string& task,
                            bool reverse) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++gate_reads;
    if (gate.empty()) return {};
    TargetReading r;
    r.p_target.assign(gate.begin(), gate.begin() + std::min(gate.size(), faces.size()));
    r.skip_at = 0.98;
    r.target = card_.condition(task, reverse).to;
    return r;
  }
  const ModelCard& card() const override { return card_; }
  ModelCard& card() { return card_; }  // a test calibrates it (Condition::scale)
  std::string device() const override { return "cpu"; }

  int calls = 0, last_batch = 0, gate_reads = 0;
  std::vector<double> gate;  // what read_target answers
  std::string last_task;
  double last_strength = 0;

 private:
  Fn fn_;
  ModelCard card_;
  std::mutex mutex_;
};

inline std::shared_ptr<FakeTranslator> identity_translator(int res = 128) {
  return std::make_shared<FakeTranslator>([](const cv::Mat& m) { return m.clone(); }, res);
}
inline std::shared_ptr<FakeTranslator> invert_translator(int res = 128) {
  return std::make_shared<FakeTranslator>([](const cv::Mat& m) { return cv::Mat(255 - m); }, res);
}
inline std::shared_ptr<FakeTranslator> flat_translator(cv::Scalar colour, int res = 128) {
  return std::make_shared<FakeTranslator>(
      [colour](const cv::Mat& m) { return cv::Mat(m.size(), CV_8UC3, colour); }, res);
}

inline HostContext context(std::shared_ptr<FaceTranslator> model) {
  HostContext ctx;
  ctx.log = [](LogLevel, const std::string&) {};
  ctx.progress = [](double, const std::string&) {};
  ctx.model = std::move(model);
  return ctx;
}

// A smooth, textured photo (blurred noise): bilinear resampling errors stay small on it.
inline cv::Mat smooth_photo(cv::Size size, int seed = 7) {
  cv::Mat noise(size, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(noise, cv::RNG::UNIFORM, 40, 216);
  cv::Mat out;
  cv::GaussianBlur(noise, out, {0, 0}, 6.0);
  cv::normalize(out, out, 20, 235, cv::NORM_MINMAX);
  return out;
}

// A cartoon face centred at `c` with eye distance `iod`, rotated by `deg`; returns its 5
// landmarks in the order the pipeline uses (right eye, left eye, nose, mouth right, mouth left).
inline std::vector<cv::Point2f> draw_face(cv::Mat& img, cv::Point2f c, float iod, float deg) {
  const double a = deg * CV_PI / 180.0;
  auto at = [&](double dx, double dy) {  // offsets in units of iod, face upright
    return cv::Point2f(float(c.x + iod * (dx * std::cos(a) - dy * std::sin(a))),
                       float(c.y + iod * (dx * std::sin(a) + dy * std::cos(a))));
  };
  cv::ellipse(img, at(0, 0.4), cv::Size(int(iod * 0.95), int(iod * 1.25)), deg, 0, 360,
              {140, 170, 210}, -1, cv::LINE_AA);
  std::vector<cv::Point2f> lm = {at(-0.5, 0), at(0.5, 0), at(0, 0.55), at(-0.42, 0.9),
                                 at(0.42, 0.9)};
  cv::circle(img, lm[0], int(iod * 0.12), {40, 30, 30}, -1, cv::LINE_AA);
  cv::circle(img, lm[1], int(iod * 0.12), {40, 30, 30}, -1, cv::LINE_AA);
  cv::line(img, lm[3], lm[4], {60, 60, 160}, std::max(2, int(iod * 0.08)), cv::LINE_AA);
  return lm;
}

inline std::filesystem::path temp_dir(const std::string& tag) {
  auto d = std::filesystem::temp_directory_path() /
           ("fc_pipeline_" + tag + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

inline bool shared_present() {
  return std::filesystem::exists(std::string(FC_SHARED_DIR) + "/data/group_photos");
}

}  // namespace fc::testing
