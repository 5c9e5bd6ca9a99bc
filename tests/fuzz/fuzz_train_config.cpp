// libFuzzer: the training config (TOML) as the trainer parses it and as the daemon checks it
// before the trainer sees it. Either must accept or throw std::invalid_argument, never crash.
#include <cstdint>
#include <string>

#include "service/train_policy.h"
#include "train_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    fcd::TrainConfigFacts facts = fcd::read_train_config_facts(text, "/nonexistent/cfg.toml");
    fcd::check_train_paths(facts, fcd::AllowedRoots({"/nonexistent"}), {});
  } catch (const std::invalid_argument&) {
  }
  try {
    fc::train::parse_train_config(text, "fuzz.toml");
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
