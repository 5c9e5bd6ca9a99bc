// --version: the client's version, and when a daemon answers, its version, active model and
// plugin ABI. A daemon that cannot be reached is reported, not an error: the client's version
// is still the answer.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"

namespace fcc {

namespace v1 = facecycle::v1;
using nlohmann::json;

namespace {

// The daemon's half, or throws CliError saying why there is none.
json daemon_version(const GlobalOptions& g) {
  Connection conn(g);
  v1::VersionInfo v;
  auto ctx = conn.context(std::chrono::seconds(10));
  grpc::Status s = conn.stub().GetVersion(ctx.get(), v1::GetVersionRequest(), &v);
  if (s.error_code() == grpc::StatusCode::UNIMPLEMENTED)
    throw CliError("the daemon at " + conn.address() +
                   " is older than this client and does not report its version");
  conn.check(s, "daemon version");
  return {{"address", conn.address()},
          {"version", v.daemon_version()},
          {"plugin_abi_version", v.plugin_abi_version()},
          {"plugin_build", v.plugin_build()},
          {"active_model", v.active_model()},
          {"model_card_version", v.model_card_version()},
          {"model_card_sha256", v.model_card_sha256()}};
}

void print_text(const json& d) {
  std::cout << "daemon:   facecycled " << d["version"].get<std::string>() << " at "
            << d["address"].get<std::string>() << "\n";
  const std::string model = d["active_model"];
  std::cout << "model:    " << (model.empty() ? "none active" : model);
  if (!model.empty() && !d["model_card_sha256"].get<std::string>().empty())
    std::cout << " (card v" << d["model_card_version"].get<int>() << ", sha256 "
              << d["model_card_sha256"].get<std::string>().substr(0, 12) << ")";
  std::cout << "\n";
  std::cout << "plugins:  ABI " << d["plugin_abi_version"].get<int>() << " ("
            << d["plugin_build"].get<std::string>() << ")\n";
}

}  // namespace

int cmd_version(const GlobalOptions& g) {
  json out{{"client_version", FC_VERSION}, {"daemon", nullptr}};
  if (!g.json) std::cout << "facecycle " << FC_VERSION << "\n";
  try {
    out["daemon"] = daemon_version(g);
    if (!g.json) print_text(out["daemon"]);
  } catch (const CliError& e) {
    out["daemon_error"] = e.what();
    if (!g.json) std::cout << "daemon:   not reachable: " << e.what() << "\n";
  }
  if (g.json) std::cout << out.dump(2) << "\n";
  return kExitOk;
}

}  // namespace fcc
