// libFuzzer: the validation behind SubmitTransform (the request as JSON, as the queue stores it)
// with inputs resolved against one allowed root. Refuse with an exception, never crash.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "workers/transform_plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string root = [] {
    auto dir =
        std::filesystem::temp_directory_path() / ("fc_fuzz_root_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir / "in");
    return dir.string();
  }();
  static const fcd::PluginHost plugins;
  static const fcd::Config config;
  try {
    auto spec = fcd::TransformSpec::from_json(nlohmann::json::parse(data, data + size));
    fcd::plan_transform(spec, config, plugins, fcd::AllowedRoots({root}));
  } catch (const std::exception&) {
  }
  return 0;
}
