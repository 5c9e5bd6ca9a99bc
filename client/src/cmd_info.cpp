// health, plugins, models.
#include <grpcpp/generic/generic_stub.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "json_view.h"
#include "text_view.h"

namespace fcc {

namespace v1 = facecycle::v1;
using nlohmann::json;

namespace {

// grpc.health.v1.Health/Check without generated code: the request (empty service name) is
// empty on the wire, and the response is field 1, a varint ServingStatus.
grpc::Status health_check(Connection& conn, int* serving_status) {
  grpc::GenericStub stub(conn.channel());
  grpc::CompletionQueue cq;
  auto ctx = conn.context(std::chrono::seconds(10));
  grpc::ByteBuffer request, response;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  auto call = stub.PrepareUnaryCall(ctx.get(), "/grpc.health.v1.Health/Check", request, &cq);
  call->StartCall();
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag;
  bool ok;
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (!status.ok()) return status;
  std::vector<grpc::Slice> slices;
  response.Dump(&slices);
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  *serving_status = 0;  // UNKNOWN
  if (bytes.size() >= 2 && bytes[0] == 0x08) *serving_status = static_cast<unsigned char>(bytes[1]);
  return status;
}

const char* serving_word(int s) {
  switch (s) {
    case 1:
      return "serving";
    case 2:
      return "not_serving";
    case 3:
      return "service_unknown";
    default:
      return "unknown";
  }
}

using Daemons = google::protobuf::RepeatedPtrField<v1::DaemonModel>;

json daemons_json(const Daemons& daemons) {
  json out = json::array();
  for (const auto& d : daemons) out.push_back(to_json(d));
  return out;
}

// One row a daemon: its answer to the latest activation everywhere, its model, its node, and
// why it holds another model.
void print_daemons(const Daemons& daemons) {
  std::vector<std::vector<std::string>> rows{{"ANSWER", "MODEL", "DAEMON", "WHY"}};
  for (const auto& d : daemons)
    rows.push_back({d.answer() == v1::CLUSTER_ANSWER_NONE ? "-" : answer_word(d.answer()),
                    d.resident().empty() ? "none" : d.resident(),
                    d.node().empty() ? "this daemon" : d.node() + (d.self() ? " (this one)" : ""),
                    d.error()});
  print_table(std::cout, rows);
}

}  // namespace

int cmd_health(const GlobalOptions& g) {
  Connection conn(g);
  int serving = 0;
  conn.check(health_check(conn, &serving), "health check");

  // The active model, when the caller may list models.
  json models = nullptr;
  v1::ListModelsResponse lm;
  auto ctx = conn.context();
  if (conn.stub().ListModels(ctx.get(), v1::ListModelsRequest(), &lm).ok()) {
    models = json::object();
    models["active"] = lm.active();
    for (const auto& m : lm.models()) {
      if (!m.active()) continue;
      models["device"] = m.device();
      models["precision"] = m.precision();
      models["loaded"] = m.loaded();
    }
    // With a shared database: the model activated everywhere, and every live daemon's.
    models["cluster_model"] = lm.cluster_model();
    models["daemons"] = daemons_json(lm.daemons());
  }

  if (g.json) {
    json out = {{"server", conn.address()}, {"status", serving_word(serving)}};
    if (!models.is_null()) out["model"] = models;
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << "facecycled at " << conn.address() << ": " << serving_word(serving) << "\n";
    if (!models.is_null()) {
      std::string active = models["active"];
      std::cout << "active model: " << (active.empty() ? "none" : active);
      if (models.contains("device") && !models["device"].get<std::string>().empty())
        std::cout << " (" << models["device"].get<std::string>()
                  << (models["loaded"].get<bool>() ? ", loaded" : ", not loaded") << ")";
      std::cout << "\n";
      if (!lm.cluster_model().empty())
        std::cout << "activated everywhere: " << lm.cluster_model() << "\n";
      if (lm.daemons_size() > 1 || !lm.cluster_model().empty()) print_daemons(lm.daemons());
    }
  }
  return serving == 1 ? kExitOk : kExitError;
}

int cmd_plugins(const GlobalOptions& g) {
  Connection conn(g);
  v1::ListPluginsResponse resp;
  auto ctx = conn.context();
  conn.check(conn.stub().ListPlugins(ctx.get(), v1::ListPluginsRequest(), &resp), "list plugins");
  if (g.json) {
    // One list: loaded plugins, then refused files with status "refused" and the reason.
    json out = json::array();
    for (const auto& p : resp.plugins()) out.push_back(to_json(p));
    for (const auto& r : resp.refused()) {
      std::string name = r.file().substr(r.file().find_last_of('/') + 1);
      name = name.substr(0, name.rfind('.'));
      out.push_back(
          {{"name", name}, {"file", r.file()}, {"status", "refused"}, {"reason", r.reason()}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows{{"NAME", "KIND", "DESCRIPTION", "FILE"}};
  for (const auto& p : resp.plugins())
    rows.push_back({p.name(), p.kind(), p.description(), p.file()});
  print_table(std::cout, rows);
  if (resp.refused_size() > 0) {
    std::cout << "\nrefused:\n";
    for (const auto& r : resp.refused())
      std::cout << "  " << r.file() << ": " << r.reason() << "\n";
  }
  if (resp.plugin_dirs_size() > 0) {
    std::cout << "\nplugin dirs:";
    for (const auto& d : resp.plugin_dirs()) std::cout << " " << d;
    std::cout << "\n";
  }
  return kExitOk;
}

int cmd_models_list(const GlobalOptions& g) {
  Connection conn(g);
  v1::ListModelsResponse resp;
  auto ctx = conn.context();
  conn.check(conn.stub().ListModels(ctx.get(), v1::ListModelsRequest(), &resp), "list models");
  if (g.json) {
    json models = json::array();
    for (const auto& m : resp.models()) models.push_back(to_json(m));
    std::cout << json{{"active", resp.active()}, {"models", models}}.dump(2) << "\n";
    return kExitOk;
  }
  if (resp.models_size() == 0) {
    std::cout << "no models registered; train one with `facecycle train --config FILE`\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows{
      {"", "NAME", "LOADED", "DEVICE", "REGISTERED", "CALIBRATED (--strength 1)", "GATE", "PATH"}};
  for (const auto& m : resp.models())
    rows.push_back({m.active() ? "*" : "", m.name(), m.loaded() ? "yes" : "no",
                    m.device() + (m.precision().empty() ? "" : " " + m.precision()),
                    format_time_ms(m.registered_ms()), calibration_text(m.card_json()),
                    gate_text(m), m.path()});
  print_table(std::cout, rows);
  return kExitOk;
}

int cmd_models_activate(const GlobalOptions& g, const std::string& name, bool everywhere) {
  Connection conn(g);
  v1::ActivateModelRequest req;
  req.set_name(name);
  req.set_everywhere(everywhere);
  v1::ActivateModelResponse resp;
  auto ctx = conn.context(std::chrono::seconds(300));  // loading a model can take a while
  conn.check(conn.stub().ActivateModel(ctx.get(), req, &resp), "activate model " + name);
  // A daemon that knows --everywhere names at least itself; an older one ignores the field.
  if (everywhere && resp.daemons_size() == 0)
    std::cerr << "warning: the daemon listed no daemons: it may predate --everywhere, in which "
                 "case it activated "
              << name << " on itself only\n";
  if (g.json) {
    json out = to_json(resp.model());
    if (everywhere) out["daemons"] = daemons_json(resp.daemons());
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "active model: " << resp.model().name() << "\n";
  if (everywhere && resp.daemons_size() > 0) {
    std::cout << "activated everywhere; each daemon's answer:\n";
    print_daemons(resp.daemons());
  }
  return kExitOk;
}

}  // namespace fcc
