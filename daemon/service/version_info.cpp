#include "service/version_info.h"

#include <nlohmann/json.hpp>

#include "facecycle/plugin.h"
#include "service/auth.h"

#ifndef FC_VERSION
#define FC_VERSION "unknown"
#endif

namespace fcd {

void fill_version(ModelRegistry& models, facecycle::v1::VersionInfo* out) {
  out->set_daemon_version(FC_VERSION);
  out->set_plugin_abi_version(FACECYCLE_PLUGIN_ABI_VERSION);
  out->set_plugin_build(FACECYCLE_PLUGIN_BUILD);
  for (const auto& m : models.list()) {
    if (!m.active) continue;
    out->set_active_model(m.name);
    if (m.card_json.empty()) break;  // unreadable card: the name alone
    // The card's hash tells two models with the same name apart (a retrained NAME).
    out->set_model_card_sha256(sha256_hex(m.card_json));
    auto card = nlohmann::json::parse(m.card_json, nullptr, false);
    if (card.is_object()) out->set_model_card_version(card.value("card_version", 0));
    break;
  }
}

}  // namespace fcd
