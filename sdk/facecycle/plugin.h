// The facecycle stage-plugin ABI: the one public header a plugin needs.
//
// A plugin is a shared library exporting `facecycle_plugin_entry` (extern "C"), which returns a
// FacecyclePluginInfo. C++ types (std::function, std::string, cv::Mat, shared_ptr) cross the
// boundary, so a plugin must be built with the daemon's compiler, standard library and OpenCV
// major version (docs/ARCHITECTURE.md, "The plugin ABI"). The host checks both halves at load:
// abi_version guards this header's layout, `build` the toolchain (FACECYCLE_PLUGIN_BUILD) and
// `layout` the sizes of facecycle's own types as the plugin was compiled (fc::plugin_layout).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "facecycle/core/enum_names.h"
#include "facecycle/core/translator.h"
#include "facecycle/train_api.h"

// 2: `build` and `task` added to FacecyclePluginInfo.
// 3: PluginConfig is the plugin's [plugins.NAME] table as TOML text and the plugin's name (it
//    was a map of the table's values flattened to strings).
// 4: PhotoItem::strength, and FaceTranslator::translate takes it (the edit strength).
// 5: Condition::scale (in ModelCard), which the inline FaceTranslator::translate applies: a
//    plugin built against 4 would read past the end of each condition.
// 6: `layout` added to FacecyclePluginInfo (fc::plugin_layout()).
// 7: Condition::change_blur (in ModelCard).
// 8: FaceTranslator::read_target (the model's domain gate), PhotoItem::all_faces and
//    Face::p_target.
#define FACECYCLE_PLUGIN_ABI_VERSION 8
#define FACECYCLE_PLUGIN_ENTRY_SYMBOL "facecycle_plugin_entry"

#define FACECYCLE_STR_(x) #x
#define FACECYCLE_STR(x) FACECYCLE_STR_(x)
// What must match between plugin and daemon besides this header, spelled at each one's compile
// time: compiler family and major version, standard library with its release and (libstdc++)
// dual-ABI setting, and OpenCV major version.
#if defined(__clang__)
#define FACECYCLE_BUILD_COMPILER "clang-" FACECYCLE_STR(__clang_major__)
#elif defined(__GNUC__)
#define FACECYCLE_BUILD_COMPILER "gcc-" FACECYCLE_STR(__GNUC__)
#else
#define FACECYCLE_BUILD_COMPILER "unknown-compiler"
#endif
#if defined(_LIBCPP_VERSION)
#define FACECYCLE_BUILD_STDLIB "libc++-" FACECYCLE_STR(_LIBCPP_VERSION)
#elif defined(_GLIBCXX_RELEASE)
#define FACECYCLE_BUILD_STDLIB \
  "libstdc++-" FACECYCLE_STR(_GLIBCXX_RELEASE) "-cxx11abi" FACECYCLE_STR(_GLIBCXX_USE_CXX11_ABI)
#else
#define FACECYCLE_BUILD_STDLIB "unknown-stdlib"
#endif
#define FACECYCLE_PLUGIN_BUILD \
  FACECYCLE_BUILD_COMPILER " " FACECYCLE_BUILD_STDLIB " opencv-" FACECYCLE_STR(CV_VERSION_MAJOR)

namespace fc {

enum class PluginKind : int { kStage = 1, kTrainer = 2 };

// How logs, `facecycle plugins` and messages spell a kind.
template <>
struct EnumNames<PluginKind> {
  static constexpr std::pair<PluginKind, const char*> table[] = {{PluginKind::kStage, "stage"},
                                                                 {PluginKind::kTrainer, "trainer"}};
};

// Settings for one plugin: its `[plugins.NAME]` table of the daemon config, written out as TOML
// (the table's keys at the top level; empty when the config has no such table). Text, not a
// parsed table, so that no TOML library's types cross the boundary. Read it with
// fc::PluginSettings (facecycle/plugin_settings.h): typed values, and errors that name the
// plugin and the key ("plugins.detect.min_face: must be a number (got \"big\")").
struct PluginConfig {
  std::string plugin;  // the plugin's name, e.g. "detect"
  std::string toml;    // e.g. "detector = 'haar'\nmin_face = 40\n"
};

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
  double p_target = -1.0;  // the model's gate: P(already the edit's target); < 0: not read
};

// One unit of work in a transform job: one photo in, one photo out.
struct PhotoItem {
  std::string input_path;
  std::string output_path;  // final name; writers go through a temporary name and rename
  std::string task;         // "age", "race", ...
  bool reverse = false;
  double strength = 1.0;  // scales the model's change (FaceTranslator::translate)
  // false: faces the model's domain gate reads as already the target are left unedited
  // (FaceTranslator::read_target); true: every face found is edited (--all-faces).
  bool all_faces = false;
  bool whole_image = false;     // the photo is one face chip: no detection
  std::string format = "same";  // png | jpg | same
  cv::Mat image;                // decoded input, CV_8UC3 BGR
  std::vector<Face> faces;
  cv::Mat result;                             // edited photo, same size as image
  std::string model_name;                     // model that produced `generated`, for metadata
  std::map<std::string, std::string> report;  // per-item facts shown to the user
};

class Stage {
 public:
  virtual ~Stage() = default;
  // Throws std::exception with a user-facing message to fail the item.
  virtual void process(PhotoItem& item, HostContext& ctx) = 0;
};

// The size and alignment of each facecycle type that crosses the boundary, folded into one
// number (FNV-1a). abi_version is bumped by hand; this catches what a hand misses, above all a
// daemon and plugins compiled from two states of one tree (a rebuild while a run starts its
// daemon): both then claim the same version and disagree on a layout. That once left every
// face unedited without an error, a plugin reading each card condition at the wrong stride.
constexpr unsigned long long plugin_layout() {
  const unsigned long long parts[] = {sizeof(PluginConfig),
                                      alignof(PluginConfig),
                                      sizeof(Face),
                                      alignof(Face),
                                      sizeof(PhotoItem),
                                      alignof(PhotoItem),
                                      sizeof(HostContext),
                                      alignof(HostContext),
                                      sizeof(TrainRequest),
                                      sizeof(TrainHooks),
                                      sizeof(Condition),
                                      alignof(Condition),
                                      sizeof(ModelCard),
                                      alignof(ModelCard),
                                      sizeof(TranslatorStats),
                                      sizeof(TranslatorOptions),
                                      sizeof(TargetReading),
                                      sizeof(FaceTranslator),
                                      sizeof(Stage),
                                      sizeof(Trainer)};
  unsigned long long hash = 14695981039346656037ull;
  for (unsigned long long part : parts) {
    hash ^= part;
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace fc

extern "C" {
struct FacecyclePluginInfo {
  int abi_version;            // first in every version: the host reads it before trusting the rest
  const char* build;          // FACECYCLE_PLUGIN_BUILD as the plugin was compiled
  unsigned long long layout;  // fc::plugin_layout() as the plugin was compiled
  const char* name;           // e.g. "detect", "generate-age"
  int kind;                   // fc::PluginKind
  const char* description;    // one line for `facecycle plugins`
  // The task a stage serves ("age"), checked against the request and the model card; nullptr
  // for stages that work for every task (detect, crop, composite) and for trainers.
  const char* task;
  // Exactly one factory is set, matching kind. A factory may throw; the host then refuses the
  // plugin with the message.
  fc::Stage* (*create_stage)(const fc::PluginConfig& config);
  fc::Trainer* (*create_trainer)(const fc::PluginConfig& config);
};
typedef const FacecyclePluginInfo* (*FacecyclePluginEntryFn)();
}

#define FACECYCLE_PLUGIN_ENTRY_(NAME, KIND, DESCRIPTION, TASK, STAGE_FACTORY, TRAINER_FACTORY) \
  extern "C" __attribute__((visibility("default"))) const FacecyclePluginInfo*                 \
  facecycle_plugin_entry() {                                                                   \
    static const FacecyclePluginInfo info{FACECYCLE_PLUGIN_ABI_VERSION,                        \
                                          FACECYCLE_PLUGIN_BUILD,                              \
                                          fc::plugin_layout(),                                 \
                                          NAME,                                                \
                                          static_cast<int>(KIND),                              \
                                          DESCRIPTION,                                         \
                                          TASK,                                                \
                                          STAGE_FACTORY,                                       \
                                          TRAINER_FACTORY};                                    \
    return &info;                                                                              \
  }

// Defines the entry point for a stage plugin class with a (const PluginConfig&) constructor.
#define FACECYCLE_STAGE_PLUGIN(NAME, DESCRIPTION, CLASS)  \
  FACECYCLE_PLUGIN_ENTRY_(                                \
      NAME, fc::PluginKind::kStage, DESCRIPTION, nullptr, \
      [](const fc::PluginConfig& c) -> fc::Stage* { return new CLASS(c); }, nullptr)

// The same for a stage that serves one task, e.g. ("generate-age", "age", ...).
#define FACECYCLE_TASK_STAGE_PLUGIN(NAME, TASK, DESCRIPTION, CLASS) \
  FACECYCLE_PLUGIN_ENTRY_(                                          \
      NAME, fc::PluginKind::kStage, DESCRIPTION, TASK,              \
      [](const fc::PluginConfig& c) -> fc::Stage* { return new CLASS(c); }, nullptr)

#define FACECYCLE_TRAINER_PLUGIN(NAME, DESCRIPTION, CLASS)                               \
  FACECYCLE_PLUGIN_ENTRY_(NAME, fc::PluginKind::kTrainer, DESCRIPTION, nullptr, nullptr, \
                          [](const fc::PluginConfig& c) -> fc::Trainer* { return new CLASS(c); })
