// Group-photo throughput: detect -> crop -> generate -> composite in-process, through the stage
// plugins, with a real (deterministic, untrained) generator from fc::load_translator.
//
//   pipeline_bench [--photo P] [--megapixels 1.0] [--detector yunet|haar|ssd] [--faces 5]
//                  [--iters 10]
//                  [--threads 2] [--model M.pt | --width 32 --blocks 6 --resolution 128]
//                  [--out sheet.png]
// --model takes a model file (e.g. from `fc-model init --seed 1 M.pt`); without it the bench
// writes the same kind of seeded model itself.
//
// Prints ms per photo per stage (median and mean over the iterations, after one warm-up).
// --faces N keeps the N most confident detections (detection itself still sees them all), so
// a photo with more faces measures an N-face photo.
#include <dlfcn.h>
#include <facecycle/core/image_io.h>
#include <facecycle/core/model_file.h>
#include <facecycle/core/translator.h>
#include <facecycle/plugin.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace {

// `toml`: the stage's [plugins.NAME] table as TOML text.
std::unique_ptr<fc::Stage> load_stage(const std::string& dir, const std::string& name,
                                      const std::string& toml) {
  const std::string path = dir + "/" + name + ".so";
  void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) throw std::runtime_error(std::string("cannot load ") + ::dlerror());
  auto entry = reinterpret_cast<FacecyclePluginEntryFn>(::dlsym(h, FACECYCLE_PLUGIN_ENTRY_SYMBOL));
  if (!entry) throw std::runtime_error(path + " has no entry point");
  return std::unique_ptr<fc::Stage>(entry()->create_stage(fc::PluginConfig{name, toml}));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

using Args = std::map<std::string, std::string>;

const std::vector<std::string> kStages = {"detect", "crop", "generate-age", "composite"};

// "--key value" pairs over the defaults; false (after saying which) for an unknown key.
bool parse_args(int argc, char** argv, Args& a) {
  a = {{"--photo", std::string(FC_SHARED_DIR) + "/data/group_photos/2008_002506.jpg"},
       {"--megapixels", "1.0"},
       {"--detector", "yunet"},
       {"--faces", "5"},
       {"--iters", "10"},
       {"--threads", "2"},
       {"--width", "32"},
       {"--blocks", "6"},
       {"--resolution", "128"},
       {"--out", ""},
       {"--model", ""},
       {"--plugins", FC_PLUGIN_DIR}};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!a.count(argv[i])) {
      std::cerr << "unknown option " << argv[i] << "\n";
      return false;
    }
    a[argv[i]] = argv[i + 1];
  }
  return true;
}

// [plugins.detect] written out as the daemon hands it over; the other stages keep defaults.
std::string detect_toml(const std::string& detector) {
  const std::string models = std::string(FC_SHARED_DIR) + "/models/";
  const toml::table detect{{"detector", detector},
                           {"yunet_model", models + "face_detection_yunet_2022mar.onnx"},
                           {"ssd_model", models + "opencv_face_detector_uint8.pb"},
                           {"ssd_config", models + "opencv_face_detector.pbtxt"}};
  std::ostringstream out;
  out << detect;
  return out.str();
}

// The photo, resized to the requested size.
cv::Mat resized_photo(const std::string& path, double megapixels) {
  cv::Mat photo = fc::read_image(path).bgr;
  const double f = std::sqrt(megapixels * 1e6 / photo.total());
  cv::resize(photo, photo, {}, f, f, f > 1 ? cv::INTER_CUBIC : cv::INTER_AREA);
  return photo;
}

// --model, or a deterministic model as `fc-model init` writes it.
std::shared_ptr<fc::FaceTranslator> load_model(Args& a, const fc::TranslatorOptions& to) {
  const fs::path dir = fs::temp_directory_path() / ("fc_bench_" + std::to_string(::getpid()));
  std::string model_path = a["--model"];
  fc::GeneratorOptions go;
  go.width = std::stoi(a["--width"]);
  go.blocks = std::stoi(a["--blocks"]);
  if (model_path.empty()) {
    fs::create_directories(dir);
    model_path = (dir / "bench.pt").string();
    fc::write_seeded_model(model_path, go, std::stoi(a["--resolution"]), 1, "bench");
  }
  auto model = fc::load_translator(model_path, to);
  fs::remove_all(dir);
  return model;
}

struct Timings {
  std::vector<std::vector<double>> ms;  // per stage, then the total
  fc::PhotoItem last;
};

// One warm-up, then `iters` runs of every stage, keeping at most `faces` detections.
Timings run_stages(const std::vector<std::unique_ptr<fc::Stage>>& stages, const cv::Mat& photo,
                   fc::HostContext& ctx, int iters, int faces) {
  Timings t;
  t.ms.resize(stages.size() + 1);
  for (int it = -1; it < iters; ++it) {  // it = -1: warm-up
    fc::PhotoItem item;
    item.image = photo;
    item.task = "age";
    double total = 0;
    for (size_t s = 0; s < stages.size(); ++s) {
      auto t0 = std::chrono::steady_clock::now();
      stages[s]->process(item, ctx);
      if (s == 0 && int(item.faces.size()) > faces)
        item.faces.resize(faces);  // detect sorts best first
      double d =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      total += d;
      if (it >= 0) t.ms[s].push_back(d);
    }
    if (it >= 0) t.ms.back().push_back(total);
    t.last = std::move(item);
  }
  return t;
}

// `t` is not const: a count the stages did not report reads as null, as before.
void print_report(Args& a, const cv::Mat& photo, const fc::FaceTranslator& model, int threads,
                  int iters, Timings& t) {
  std::cout << "photo " << a["--photo"] << " resized to " << photo.cols << "x" << photo.rows
            << ", detector " << a["--detector"] << ", faces found "
            << t.last.report["faces_detected"] << ", kept " << t.last.faces.size() << ", edited "
            << t.last.report["faces_composited"] << ", model " << model.card().name << " width "
            << model.card().width << " blocks " << model.card().blocks << " resolution "
            << model.card().resolution << ", torch threads " << threads << ", " << iters
            << " iterations\n";
  std::cout << "stage            median_ms   mean_ms\n";
  for (size_t s = 0; s <= kStages.size(); ++s) {
    const auto& v = t.ms[s];
    const double mean = v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / v.size();
    std::printf("%-16s %9.1f %9.1f\n", s < kStages.size() ? kStages[s].c_str() : "total", median(v),
                mean);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse_args(argc, argv, a)) return 2;
  const cv::Mat photo = resized_photo(a["--photo"], std::stod(a["--megapixels"]));
  fc::TranslatorOptions to;
  to.device = fc::DeviceChoice::kCpu;
  to.threads = std::stoi(a["--threads"]);
  auto model = load_model(a, to);

  fc::HostContext ctx;
  ctx.model = model;
  std::vector<std::unique_ptr<fc::Stage>> stages;
  for (const auto& n : kStages)
    stages.push_back(
        load_stage(a["--plugins"], n, n == "detect" ? detect_toml(a["--detector"]) : ""));
  const int iters = std::stoi(a["--iters"]);
  Timings t = run_stages(stages, photo, ctx, iters, std::stoi(a["--faces"]));
  print_report(a, photo, *model, to.threads, iters, t);
  if (!a["--out"].empty()) {
    fc::write_image_atomic(a["--out"], fc::make_before_after_sheet({{photo, t.last.result}}, 512),
                           "png", {});
    std::cout << "wrote " << a["--out"] << "\n";
  }
  return 0;
}
