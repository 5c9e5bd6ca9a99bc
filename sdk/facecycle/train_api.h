// The half of the plugin ABI a trainer needs: host context, training request and hooks. No
// OpenCV and no torch here, so the LibTorch-only build (FACECYCLE_TORCH_ONLY, docs/GPU.md) runs
// the same trainer as the daemon's train plugin. facecycle/plugin.h includes this header.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace fc {

class FaceTranslator;  // facecycle/core/translator.h; stages use it, trainers do not

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

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
