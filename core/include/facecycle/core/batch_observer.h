// A hook into the shared generator's dynamic batcher, for the daemon's metrics. It lives apart
// from translator.h because sdk/facecycle/plugin.h includes that header: a change there would
// rebuild every plugin, and plugins have no use for it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "facecycle/core/translator.h"

namespace fc {

// One generator call: how many faces it ran, and how long each waited in the queue (seconds,
// from translate() handing it over to the batcher taking it).
struct BatchObservation {
  int size = 0;
  std::vector<double> queue_wait_s;
};

// Called on the batcher thread after each batch is taken, before the generator runs: keep it
// quick, and it must not throw (an exception is caught and dropped).
using BatchObserver = std::function<void(const BatchObservation&)>;

// load_translator, with `observer` told about every batch.
std::shared_ptr<FaceTranslator> load_translator(const std::string& model_path,
                                                const TranslatorOptions& options,
                                                BatchObserver observer);

}  // namespace fc
