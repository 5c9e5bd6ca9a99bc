// The facecycle stage-plugin ABI: the one public header a plugin needs.
//
// A plugin is a shared library exporting `facecycle_plugin_entry` (extern "C"), which returns a
// PluginInfo. The daemon refuses a plugin whose abi_version differs from
// FACECYCLE_PLUGIN_ABI_VERSION. Plugins and daemon are built with the same compiler and standard
// library, so C++ types cross the boundary; the version number guards their layout.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "facecycle/core/translator.h"

#define FACECYCLE_PLUGIN_ABI_VERSION 1
#define FACECYCLE_PLUGIN_ENTRY_SYMBOL "facecycle_plugin_entry"

namespace fc {

enum class PluginKind : int { kStage = 1, kTrainer = 2 };

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Settings for one plugin: the `[plugins.NAME]` table of the daemon config, flattened to strings.
using PluginConfig = std::map<std::string, std::string>;

// One detected face as it moves through detect -> crop -> generate -> composite.
struct Face {
  cv::Rect2f box;                      // in image pixels
  float score = 0.f;                   // detector confidence, 1 when the detector gives none
  std::vector<cv::Point2f> landmarks;  // 5 points when the detector gives them:
                                       // right eye, left eye, nose tip, mouth right, mouth left
  cv::Mat to_crop;                     // 2x3 CV_64F affine, image -> crop
  cv::Mat crop;                        // aligned square crop, CV_8UC3 BGR
  cv::Mat generated;                   // translated crop, same size as crop
  std::string skipped;                 // non-empty: why this face is not edited
};

// One unit of work in a transform job: one photo in, one photo out.
struct PhotoItem {
  std::string input_path;
  std::string output_path;  // final name; writers go through a temporary name and rename
  std::string task;         // "age", "race", ...
  bool reverse = false;
  bool whole_image = false;     // the photo is one face chip: no detection
  std::string format = "same";  // png | jpg | same
  cv::Mat image;                // decoded input, CV_8UC3 BGR
  std::vector<Face> faces;
  cv::Mat result;                             // edited photo, same size as image
  std::string model_name;                     // model that produced `generated`, for metadata
  std::map<std::string, std::string> report;  // per-item facts shown to the user
};

// What every plugin receives from the host.
struct HostContext {
  std::function<void(LogLevel, const std::string&)> log;
  // fraction in [0,1] of the current unit of work, with a short message
  std::function<void(double, const std::string&)> progress;
  const std::atomic<bool>* cancelled =
      nullptr;  // set when the job is cancelled or the daemon stops
  // The one resident generator; may be swapped between items, never during one.
  std::shared_ptr<FaceTranslator> model;

  bool is_cancelled() const { return cancelled && cancelled->load(); }
};

class Stage {
 public:
  virtual ~Stage() = default;
  // Throws std::exception with a user-facing message to fail the item.
  virtual void process(PhotoItem& item, HostContext& ctx) = 0;
};

// A training job: one long unit of work that checkpoints itself under job_dir and resumes from
// the newest checkpoint when it is run again after a kill, cancel or restart.
struct TrainRequest {
  std::string config_toml;  // the user's config file contents
  std::string config_path;  // where it came from, for messages
  std::string job_dir;      // owned by this job; survives restarts
  std::string models_dir;   // where finished models are written
};

struct TrainHooks {
  // A metric point, e.g. ("age/loss_G", 0.71, step). Streams to `facecycle watch`.
  std::function<void(const std::string& name, double value, long step)> metric;
  // A finished model file (path to .pt with its .card.json beside it), to register.
  std::function<void(const std::string& model_path)> model_ready;
  // Structured results stored with the job (e.g. evaluation tables), as a JSON text.
  std::function<void(const std::string& json)> result;
};

class Trainer {
 public:
  virtual ~Trainer() = default;
  // Throws std::invalid_argument naming the config key for bad configs.
  virtual void validate(const TrainRequest& req) = 0;
  // Returns normally when done or cancelled (check ctx.is_cancelled()); throws on failure.
  virtual void run(const TrainRequest& req, HostContext& ctx, TrainHooks& hooks) = 0;
};

}  // namespace fc

extern "C" {
struct FacecyclePluginInfo {
  int abi_version;
  const char* name;         // e.g. "detect", "generate-age"
  int kind;                 // fc::PluginKind
  const char* description;  // one line for `facecycle plugins`
  // Exactly one factory is set, matching kind. A factory may throw; the host then refuses the
  // plugin with the message.
  fc::Stage* (*create_stage)(const fc::PluginConfig& config);
  fc::Trainer* (*create_trainer)(const fc::PluginConfig& config);
};
typedef const FacecyclePluginInfo* (*FacecyclePluginEntryFn)();
}

// Defines the entry point for a stage plugin class with a (const PluginConfig&) constructor.
#define FACECYCLE_STAGE_PLUGIN(NAME, DESCRIPTION, CLASS)                       \
  extern "C" __attribute__((visibility("default"))) const FacecyclePluginInfo* \
  facecycle_plugin_entry() {                                                   \
    static const FacecyclePluginInfo info{                                     \
        FACECYCLE_PLUGIN_ABI_VERSION,                                          \
        NAME,                                                                  \
        static_cast<int>(fc::PluginKind::kStage),                              \
        DESCRIPTION,                                                           \
        [](const fc::PluginConfig& c) -> fc::Stage* { return new CLASS(c); },  \
        nullptr};                                                              \
    return &info;                                                              \
  }

#define FACECYCLE_TRAINER_PLUGIN(NAME, DESCRIPTION, CLASS)                       \
  extern "C" __attribute__((visibility("default"))) const FacecyclePluginInfo*   \
  facecycle_plugin_entry() {                                                     \
    static const FacecyclePluginInfo info{                                       \
        FACECYCLE_PLUGIN_ABI_VERSION,                                            \
        NAME,                                                                    \
        static_cast<int>(fc::PluginKind::kTrainer),                              \
        DESCRIPTION,                                                             \
        nullptr,                                                                 \
        [](const fc::PluginConfig& c) -> fc::Trainer* { return new CLASS(c); }}; \
    return &info;                                                                \
  }
