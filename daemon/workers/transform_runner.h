// Runs one transform item through the stage pipeline and writes its output atomically.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config.h"
#include "metrics/metrics.h"
#include "models/plugin_host.h"
#include "paths.h"
#include "store/job_store.h"

namespace fcd {

// One worker's stage instances, created on first use (stages need not be thread-safe).
class StageCache {
 public:
  // `metrics`, when given, gets each stage's time (stage_done).
  explicit StageCache(const PluginHost& host, Metrics* metrics = nullptr)
      : host_(host), metrics_(metrics) {}
  fc::Stage& get(const std::string& name);
  // Runs stage `name` on the item and records how long it took (not when it throws).
  void run(const std::string& name, fc::PhotoItem& item, fc::HostContext& ctx);

 private:
  const PluginHost& host_;
  Metrics* metrics_;
  std::map<std::string, std::unique_ptr<fc::Stage>> stages_;
};

// Returns the item report; throws std::exception with a user-facing message to fail the item.
// Returns early (with "cancelled": true in the report) when ctx is cancelled.
// Never replaces a file the item did not write (see output_guard.h); `queue` answers whether an
// existing output is the owner's own for --overwrite.
nlohmann::json run_transform_item(const Claim& claim, const Config& config,
                                  const PluginHost& plugins, const AllowedRoots& roots,
                                  StageCache& stages, fc::HostContext& ctx, JobStore& queue);

}  // namespace fcd
