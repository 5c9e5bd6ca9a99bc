// The trainer reads its config with the shared reader (facecycle/core/toml_reader.h); these
// names keep train_config.cpp's spelling.
#pragma once

#include "facecycle/core/toml_reader.h"

namespace fc::train {

using fc::TomlReader;
using fc::config::describe;
using fc::config::fail;

}  // namespace fc::train
