// libFuzzer: model cards (NAME.card.json). Malformed JSON or fields of the wrong type must be
// refused with an exception from the JSON layer or the card's own checks, never a crash.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "facecycle/core/model_card.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto j = nlohmann::json::parse(data, data + size);
    fc::ModelCard card = fc::ModelCard::from_json(j);
    card.tasks();
    for (const auto& t : card.tasks()) card.condition_id(t, true);
    fc::ModelCard::from_json(card.to_json());
  } catch (const nlohmann::json::exception&) {
  } catch (const std::invalid_argument&) {
  } catch (const std::runtime_error&) {
  }
  return 0;
}
