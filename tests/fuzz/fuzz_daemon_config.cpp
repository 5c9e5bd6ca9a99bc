// libFuzzer: the daemon's TOML config. Accept or throw ConfigError, never crash.
#include <cstdint>
#include <string>

#include "config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    fcd::parse_config(std::string(reinterpret_cast<const char*>(data), size), "fuzz.toml");
  } catch (const fcd::ConfigError&) {
  }
  return 0;
}
