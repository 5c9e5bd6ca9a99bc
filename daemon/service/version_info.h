// GetVersion's answer: the daemon's version, the plugin ABI it loads, and the active model.
#pragma once

#include "facecycle/v1/facecycle.pb.h"
#include "models/model_registry.h"

namespace fcd {

void fill_version(ModelRegistry& models, facecycle::v1::VersionInfo* out);

}  // namespace fcd
