// Threading: RPCs run on gRPC's own synchronous-server thread pool, so a slow call (WatchJob
// streams for minutes, ActivateModel loads a model) never blocks the others and needs no async
// state machine. Items run on the WorkerPool's threads; both sides meet only in the JobStore (a
// mutex around its database connection, condition variables for new events and new work) and in
// ModelRegistry (a mutex around the shared model pointer). The Boost.Asio loop in main.cpp
// owns signals and timers only, so shutdown is sequenced from one place.
#include "service/grpc_service.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>

#include "facecycle/core/gate_spec.h"
#include "facecycle/core/run_labels.h"
#include "service/cluster_proto.h"
#include "service/job_files.h"
#include "service/path_user.h"
#include "service/priority_policy.h"
#include "service/proto_enums.h"
#include "service/retry_status.h"
#include "service/train_policy.h"
#include "service/version_info.h"
#include "text_limits.h"
#include "workers/output_guard.h"
#include "workers/train_runner.h"
#include "workers/transform_plan.h"

namespace fcd {

namespace pb = facecycle::v1;
namespace fs = std::filesystem;
using grpc::Status;
using grpc::StatusCode;
using nlohmann::json;

namespace {

// How long `models activate --everywhere` waits for the other daemons to load the model before
// it replies with those still loading as told (health shows their answers later).
constexpr std::chrono::seconds kClusterAnswerWait{20};

// Every RPC body runs through here: no exception escapes into gRPC.
template <class F>
Status guarded(const char* rpc, F&& body) {
  try {
    return body();
  } catch (const InvalidRequest& e) {
    return Status(StatusCode::INVALID_ARGUMENT, e.what());
  } catch (const std::exception& e) {
    spdlog::error("{}: {}", rpc, e.what());
    return Status(StatusCode::INTERNAL, std::string(rpc) + " failed: " + e.what());
  } catch (...) {
    spdlog::error("{}: unknown exception", rpc);
    return Status(StatusCode::INTERNAL, std::string(rpc) + " failed");
  }
}

Status priority_status(int priority, const User& user, int cap) {
  auto check = check_priority(priority, user, cap);
  switch (check.verdict) {
    case PriorityVerdict::kOutOfRange:
      return Status(StatusCode::INVALID_ARGUMENT, check.message);
    case PriorityVerdict::kAboveCap:
      return Status(StatusCode::PERMISSION_DENIED, check.message);
    default:
      return Status::OK;
  }
}

void fill_item(const ItemRecord& r, pb::Item* out) {
  out->set_index(r.idx);
  out->set_input(r.input);
  out->set_output(r.output);
  out->set_state(to_proto(r.state));
  out->set_attempts(r.attempts);
  out->set_error(r.error);
  out->set_report_json(r.report_json);
}

pb::Model to_proto(const ModelInfo& m, const ModelRegistry& reg) {
  pb::Model out;
  out.set_name(m.name);
  out.set_path(m.path);
  out.set_registered_ms(m.registered_ms);
  out.set_active(m.active);
  out.set_card_json(m.card_json);
  try {
    if (const auto gate = fc::read_gate_spec(m.path)) {
      for (const auto& t : gate->tasks) out.add_gated_tasks(t.task);
      out.set_gate_skip_at(gate->skip_at);
    }
  } catch (const std::exception& e) {
    out.set_gate_error(e.what());
  }
  if (m.active) {
    auto cur = reg.current();
    out.set_loaded(cur != nullptr);
    if (cur) {
      out.set_device(cur->device());
      out.set_precision(cur->precision());
    }
  }
  return out;
}

bool is_unix_peer(const std::string& peer) { return peer.rfind("unix", 0) == 0; }

std::string request_token(grpc::ServerContext* ctx) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return {};
  return bearer_token(std::string(it->second.data(), it->second.size()));
}

// A result without its per-item list: that list is as long as the job (ListItems pages it).
std::string without_item_list(const std::string& result_json) {
  auto result = json::parse(result_json.empty() ? "{}" : result_json, nullptr, false);
  if (!result.is_object() || !result.contains("items")) return result_json;
  result.erase("items");
  return result.dump();
}

// The event that ends a watch: a state change whose job snapshot is terminal.
bool is_terminal_state_event(const EventRecord& e) {
  if (e.type != EventType::kState || !e.payload.is_object() || !e.payload.contains("job"))
    return false;
  auto state = fc::enum_from_string<JobState>(e.payload["job"].value("state", ""));
  return state && is_terminal(*state);
}

}  // namespace

void set_serving(grpc::Server& server, bool serving) {
  auto* health = server.GetHealthCheckService();
  if (!health) return;
  health->SetServingStatus(pb::Facecycle::service_full_name(), serving);
  health->SetServingStatus(serving);
}

void fill_job(const JobRecord& r, pb::Job* out) {
  out->set_id(r.id);
  out->set_kind(to_proto(r.kind));
  out->set_state(to_proto(r.state));
  out->set_owner(r.owner);
  out->set_priority(r.priority);
  out->set_created_ms(r.created_ms);
  out->set_started_ms(r.started_ms);
  out->set_finished_ms(r.finished_ms);
  out->set_items_total(r.items_total);
  out->set_items_done(r.items_done);
  out->set_items_failed(r.items_failed);
  out->set_items_cancelled(r.items_cancelled);
  out->set_error(r.error);
  out->set_output_dir(r.output_dir);
  out->set_result_json(r.result_json);
  auto req = json::parse(r.request_json.empty() ? "{}" : r.request_json, nullptr, false);
  if (req.is_object()) {
    out->set_task(req.value("task", ""));
    out->set_reverse(req.value("reverse", false));
    if (r.kind == JobKind::kTransform) {
      out->set_strength(req.value("strength", 1.0));
      out->set_all_faces(req.value("all_faces", false));
    }
    out->set_config_path(req.value("config_path", ""));
    out->set_run_name(req.value("run_name", ""));
    if (auto tags = req.find("tags"); tags != req.end() && tags->is_array())
      for (const auto& t : *tags)
        if (t.is_string()) out->add_tags(t.get<std::string>());
  }
}

void fill_event(const EventRecord& e, pb::Event* out) {
  out->set_id(e.id);
  out->set_job_id(e.job_id);
  out->set_time_ms(e.time_ms);
  out->set_type(to_proto(e.type));
  const json& p = e.payload.is_object() ? e.payload : json::object();
  out->set_item_index(p.value("item_index", -1));
  out->set_fraction(p.value("fraction", 0.0));
  out->set_message(p.value("message", ""));
  out->set_metric_name(p.value("metric_name", ""));
  out->set_metric_value(p.value("metric_value", 0.0));
  out->set_metric_step(p.value("metric_step", int64_t{0}));
  out->set_level(p.value("level", ""));
  out->set_item_state(proto_from_name<ItemState>(p.value("item_state", "")));
  if (p.contains("job") && p["job"].is_object()) {
    const auto& j = p["job"];
    JobRecord r;
    r.id = j.value("id", int64_t{0});
    r.owner = j.value("owner", "");
    r.priority = j.value("priority", 0);
    r.output_dir = j.value("output_dir", "");
    r.error = j.value("error", "");
    r.created_ms = j.value("created_ms", int64_t{0});
    r.started_ms = j.value("started_ms", int64_t{0});
    r.finished_ms = j.value("finished_ms", int64_t{0});
    r.items_total = j.value("items_total", 0);
    r.items_done = j.value("items_done", 0);
    r.items_failed = j.value("items_failed", 0);
    r.items_cancelled = j.value("items_cancelled", 0);
    fill_job(r, out->mutable_job());
    // Spelled as job_to_json stored them; a name this build does not know stays UNSPECIFIED.
    out->mutable_job()->set_kind(proto_from_name<JobKind>(j.value("kind", "")));
    out->mutable_job()->set_state(proto_from_name<JobState>(j.value("state", "")));
  }
}

Status FacecycleService::identify(grpc::ServerContext* ctx, User& user) {
  const std::string token = request_token(ctx);
  if (!token.empty()) {
    auto check = d_.auth.check_token(token);
    if (!check.user) return Status(StatusCode::UNAUTHENTICATED, check.refusal);
    user = *check.user;
    return Status::OK;
  }
  if (is_unix_peer(ctx->peer())) {
    user = {kLocalUser, false};
    return Status::OK;
  }
  return Status(StatusCode::UNAUTHENTICATED,
                "a token is required over TCP: set FACECYCLE_TOKEN (create one on the server "
                "with facecycled token add NAME)");
}

Status FacecycleService::recheck_token(const std::string& token) {
  if (token.empty()) return Status::OK;  // the local user: nothing to revoke
  auto check = d_.auth.check_token(token, /*touch=*/false);
  if (check.user) return Status::OK;
  return Status(StatusCode::UNAUTHENTICATED, "watch ended: " + check.refusal);
}

Status FacecycleService::accessible_job(const User& user, int64_t id, JobRecord& job) {
  // Another user's job answers exactly as a missing one: ids must not reveal who runs what.
  auto j = d_.queue.get_job(id);
  if (!j || !can_access(user, j->owner))
    return Status(StatusCode::NOT_FOUND,
                  "no job " + std::to_string(id) + " of yours (`facecycle jobs` lists them)");
  job = *j;
  return Status::OK;
}

template <class F>
Status FacecycleService::on_job(const char* rpc, grpc::ServerContext* ctx, int64_t job_id,
                                F&& body) {
  return guarded(rpc, [&] {
    User user;
    JobRecord job;
    if (auto s = identify(ctx, user); !s.ok()) return s;
    if (auto s = accessible_job(user, job_id, job); !s.ok()) return s;
    return body(user, job);
  });
}

Status FacecycleService::local_job_folder(const JobRecord& job, std::string& dir) {
  dir = job_folder(d_.config.jobs_dir, job.id);
  const std::string elsewhere =
      folder_elsewhere(job.result_json, d_.queue.lease_holder().node, dir, job.id);
  if (!elsewhere.empty()) return Status(StatusCode::FAILED_PRECONDITION, elsewhere);
  return Status::OK;
}

Status FacecycleService::SubmitTransform(grpc::ServerContext* ctx,
                                         const pb::SubmitTransformRequest* req,
                                         pb::SubmitResponse* resp) {
  return guarded("SubmitTransform", [&] {
    User user;
    if (auto s = identify(ctx, user); !s.ok()) return s;
    if (auto s = priority_status(req->priority(), user, d_.config.max_user_priority); !s.ok())
      return s;
    TransformSpec spec;
    spec.inputs.assign(req->inputs().begin(), req->inputs().end());
    spec.output_dir = req->output_dir();
    spec.task = req->task();
    spec.reverse = req->reverse();
    spec.whole_image = req->whole_image();
    spec.format = req->format().empty() ? "same" : req->format();
    spec.overwrite = req->overwrite();
    spec.skip_existing = req->skip_existing();
    spec.recursive = req->recursive();
    if (req->has_strength()) spec.strength = req->strength();
    spec.all_faces = req->all_faces();
    const AllowedRoots roots = d_.roots.for_user(path_user_for(user, d_.queue));
    auto plan = plan_transform(spec, d_.config, d_.plugins, roots);
    auto model = d_.models.current();
    check_existing_outputs(plan, spec, user.name, edit_maker(model.get(), spec), d_.queue);
    create_output_dir(plan, roots);
    spec.output_dir = plan.output_dir;
    json request = spec.to_json();
    request[kOwnerIsAdminKey] = user.is_admin;  // the workers check the paths again as this user
    int64_t id = d_.queue.submit(JobKind::kTransform, user.name, req->priority(), request.dump(),
                                 plan.output_dir, plan.items);
    spdlog::info("job {} (transform, {} items) submitted by {}", id, plan.items.size(), user.name);
    fill_job(*d_.queue.get_job(id), resp->mutable_job());
    for (const auto& w : plan.warnings) resp->add_warnings(w);
    return Status::OK;
  });
}

Status FacecycleService::SubmitTrain(grpc::ServerContext* ctx, const pb::SubmitTrainRequest* req,
                                     pb::SubmitResponse* resp) {
  return guarded("SubmitTrain", [&] {
    User user;
    if (auto s = identify(ctx, user); !s.ok()) return s;
    if (auto s = priority_status(req->priority(), user, d_.config.max_user_priority); !s.ok())
      return s;
    if (req->config_toml().empty())
      return Status(StatusCode::INVALID_ARGUMENT,
                    "the training config is empty: pass a TOML file (see configs/)");
    std::string run_name;
    std::vector<std::string> tags;
    if (auto s = check_train_policy(user, *req, run_name, tags); !s.ok()) return s;
    if (d_.config.train_concurrency == 0 && d_.config.database.empty())
      return Status(StatusCode::FAILED_PRECONDITION,
                    "this daemon runs no training jobs (train_concurrency = 0 in its config) and "
                    "shares its queue with no other daemon, so the job would never start: set "
                    "train_concurrency to 1 or more");
    if (!d_.plugins.find(kTrainerPlugin))
      return Status(StatusCode::FAILED_PRECONDITION, "no trainer plugin '" +
                                                         std::string(kTrainerPlugin) +
                                                         "' is loaded (see `facecycle plugins`)");
    fc::TrainRequest treq;
    treq.config_toml = req->config_toml();
    treq.config_path = req->config_path();
    treq.job_dir = (fs::path(d_.config.data_dir) / "jobs" / "validate").string();
    treq.models_dir = d_.config.models_dir;
    try {
      validate_train_config(d_.plugins, treq);
    } catch (const std::invalid_argument& e) {
      // The plugin quotes values whole; a user's 100 KB value must not come back whole.
      return Status(StatusCode::INVALID_ARGUMENT, clip(e.what(), 1000));
    } catch (const std::exception& e) {
      return Status(StatusCode::INVALID_ARGUMENT,
                    "the training config was refused: " + clip(e.what(), 1000));
    }
    // Whether the trained model may replace someone else's name, decided now: the worker that
    // installs it knows only the owner's name.
    json request{{"config_toml", req->config_toml()},
                 {"config_path", req->config_path()},
                 {"run_name", run_name},
                 {"tags", tags},
                 {"may_replace_models", can_manage_models(user)},
                 {kOwnerIsAdminKey, user.is_admin}};
    int64_t id =
        d_.queue.submit(JobKind::kTrain, user.name, req->priority(), request.dump(),
                        d_.config.models_dir, {{req->config_path(), d_.config.models_dir}});
    spdlog::info("job {} (train) submitted by {}", id, user.name);
    fill_job(*d_.queue.get_job(id), resp->mutable_job());
    return Status::OK;
  });
}

// The daemon's own checks, before the trainer plugin parses anything: bounded text, a model name
// the user may write, and read paths under the allowed roots.
// run_name and tags: the request's, else the config's.
Status FacecycleService::check_train_policy(const User& user, const pb::SubmitTrainRequest& req,
                                            std::string& run_name, std::vector<std::string>& tags) {
  if (req.config_path().size() > 4096)
    return Status(StatusCode::INVALID_ARGUMENT, "config_path is longer than 4096 bytes");
  TrainConfigFacts facts;
  try {
    facts = read_train_config_facts(req.config_toml(), req.config_path());
  } catch (const std::invalid_argument& e) {
    return Status(StatusCode::INVALID_ARGUMENT, e.what());
  }
  if (auto why = model_name_refusal(facts.model_name, user, d_.models); !why.empty())
    return Status(StatusCode::PERMISSION_DENIED, why);
  run_name = req.run_name().empty() ? facts.run_name : req.run_name();
  tags = req.tags().empty() ? facts.tags
                            : std::vector<std::string>(req.tags().begin(), req.tags().end());
  if (auto why = fc::run_name_problem(run_name); !why.empty())
    return Status(StatusCode::INVALID_ARGUMENT, "the run name " + why);
  if (auto why = fc::tags_problem(tags); !why.empty())
    return Status(StatusCode::INVALID_ARGUMENT, "the run's tag list " + why);
  try {
    check_train_paths(facts, d_.roots.for_user(path_user_for(user, d_.queue)), d_.models.dirs());
  } catch (const std::invalid_argument& e) {
    return Status(StatusCode::INVALID_ARGUMENT, e.what());
  }
  return Status::OK;
}

Status FacecycleService::GetJob(grpc::ServerContext* ctx, const pb::GetJobRequest* req,
                                pb::Job* resp) {
  return on_job("GetJob", ctx, req->job_id(), [&](User& user, JobRecord& job) {
    fill_job(job, resp);
    if (req->summary_only()) {
      resp->set_result_json(without_item_list(job.result_json));
      return Status::OK;
    }
    for (const auto& it : d_.queue.items(job.id)) fill_item(it, resp->add_items());
    return Status::OK;
  });
}

Status FacecycleService::ListJobs(grpc::ServerContext* ctx, const pb::ListJobsRequest* req,
                                  pb::ListJobsResponse* resp) {
  return guarded("ListJobs", [&] {
    User user;
    if (auto s = identify(ctx, user); !s.ok()) return s;
    int limit = req->limit() > 0 ? std::min(req->limit(), 10000) : 100;
    // Admins list everyone's jobs only when they ask; anyone else always gets their own.
    bool everyone = user.is_admin && req->all_users();
    auto jobs = d_.queue.list_jobs(everyone ? "" : user.name, from_proto<JobState>(req->state()),
                                   limit, from_proto<JobKind>(req->kind()));
    // Summaries, as GetJob.summary_only gives: a job's per-item list is as long as the job
    // (ListItems pages it), so it is left out of the result here.
    for (const auto& j : jobs) {
      pb::Job* out = resp->add_jobs();
      fill_job(j, out);
      out->set_result_json(without_item_list(j.result_json));
    }
    return Status::OK;
  });
}

Status FacecycleService::CancelJob(grpc::ServerContext* ctx, const pb::CancelJobRequest* req,
                                   pb::CancelJobResponse* resp) {
  return on_job("CancelJob", ctx, req->job_id(), [&](User& user, JobRecord& job) {
    if (!d_.queue.cancel_job(job.id, user.name)) {
      auto now = d_.queue.get_job(job.id);
      return Status(StatusCode::FAILED_PRECONDITION,
                    "job " + std::to_string(job.id) + " has already ended (" +
                        enum_name(now ? now->state : job.state) + "); nothing to cancel");
    }
    if (d_.pool) d_.pool->cancel_job(job.id);
    spdlog::info("job {} cancelled by {}", job.id, user.name);
    fill_job(*d_.queue.get_job(job.id), resp->mutable_job());
    return Status::OK;
  });
}

Status FacecycleService::ListPlugins(grpc::ServerContext* ctx, const pb::ListPluginsRequest*,
                                     pb::ListPluginsResponse* resp) {
  return guarded("ListPlugins", [&] {
    User user;
    if (auto s = identify(ctx, user); !s.ok()) return s;
    for (const auto& p : d_.plugins.plugins()) {
      auto* o = resp->add_plugins();
      o->set_name(p.name);
      o->set_kind(fc::enum_name(p.kind));
      o->set_description(p.description);
      o->set_file(p.file);
    }
    for (const auto& r : d_.plugins.refused()) {
      auto* o = resp->add_refused();
      o->set_file(r.file);
      o->set_reason(r.reason);
    }
    for (const auto& dir : d_.config.plugin_dirs) resp->add_plugin_dirs(dir);
    return Status::OK;
  });
}

Status FacecycleService::ListModels(grpc::ServerContext* ctx, const pb::ListModelsRequest*,
                                    pb::ListModelsResponse* resp) {
  return guarded("ListModels", [&] {
    User user;
    if (auto s = identify(ctx, user); !s.ok()) return s;
    for (const auto& m : d_.models.list()) *resp->add_models() = to_proto(m, d_.models);
    resp->set_active(d_.models.active_name());
    try {
      const ClusterStatus cluster = d_.models.cluster_status();
      resp->set_cluster_model(cluster.cluster_model);
      add_daemons(cluster, resp->mutable_daemons());
    } catch (const std::exception& e) {
      // The list and this daemon's model still answer; the other daemons' need the database.
      spdlog::warn("ListModels: cannot read the other daemons' models: {}", e.what());
    }
    return Status::OK;
  });
}

Status FacecycleService::ActivateModel(grpc::ServerContext* ctx,
                                       const pb::ActivateModelRequest* req,
                                       pb::ActivateModelResponse* resp) {
  return guarded("ActivateModel", [&] {
    User user;
    if (auto s = identify(ctx, user); !s.ok()) return s;
    if (!can_manage_models(user))
      return Status(StatusCode::PERMISSION_DENIED,
                    "only an admin or the daemon's local user may change the active model: it "
                    "serves every user's jobs");
    if (req->name().empty())
      return Status(StatusCode::INVALID_ARGUMENT,
                    "no model name: see `facecycle models` for the known ones");
    try {
      if (req->everywhere()) {
        add_daemons(d_.models.activate_everywhere(req->name(), kClusterAnswerWait),
                    resp->mutable_daemons());
        for (const auto& m : d_.models.list())
          if (m.name == req->name()) *resp->mutable_model() = to_proto(m, d_.models);
      } else {
        *resp->mutable_model() = to_proto(d_.models.activate(req->name()), d_.models);
      }
    } catch (const std::invalid_argument& e) {
      return Status(StatusCode::NOT_FOUND, e.what());
    } catch (const std::exception& e) {
      return Status(StatusCode::FAILED_PRECONDITION,
                    "cannot load model " + clip(req->name()) + ": " + e.what());
    }
    spdlog::info("model {} activated{} by {}", req->name(), req->everywhere() ? " everywhere" : "",
                 user.name);
    return Status::OK;
  });
}

Status FacecycleService::WatchJob(grpc::ServerContext* ctx, const pb::WatchJobRequest* req,
                                  grpc::ServerWriter<pb::Event>* writer) {
  return on_job("WatchJob", ctx, req->job_id(), [&](User& user, JobRecord& job) {
    int64_t last = std::max<int64_t>(0, req->after_event_id());
    // Checked again on every pass (at least every 500 ms): a revoked or expired token must not
    // keep a stream open.
    const std::string token = request_token(ctx);
    // Replay from the database, then follow: the same query serves both.
    while (true) {
      if (ctx->IsCancelled()) return Status(StatusCode::CANCELLED, "watch cancelled");
      if (auto s = recheck_token(token); !s.ok()) return s;
      int64_t seen = d_.queue.published_event_id();
      auto events = d_.queue.events_after(job.id, last, 256);
      for (const auto& e : events) {
        pb::Event out;
        fill_event(e, &out);
        if (!writer->Write(out)) return Status(StatusCode::CANCELLED, "watcher went away");
        last = e.id;
        // An earlier end that a retry re-opened is not the end of the watch.
        if (is_terminal_state_event(e) && !d_.queue.state_event_after(job.id, e.id))
          return Status::OK;
      }
      if (!events.empty()) continue;
      // Resumed after the terminal event: nothing more will come. On PostgreSQL a committed end
      // may still be held back behind an older writer (events_after), so a watch that has not
      // passed it waits for it.
      auto now = d_.queue.get_job(job.id);
      if (!now || is_terminal(now->state)) {
        if (!d_.queue.events_after(job.id, last, 1).empty()) continue;
        auto end = d_.queue.last_event(job.id, EventType::kState);
        if (!end || !is_terminal_state_event(*end) || end->id <= req->after_event_id())
          return Status::OK;
      }
      if (d_.stopping && d_.stopping->load())
        return Status(StatusCode::UNAVAILABLE,
                      "the daemon is shutting down; watch again (it resumes from event " +
                          std::to_string(last) + ")");
      d_.queue.wait_for_event(seen, std::chrono::milliseconds(500));
    }
  });
}

Status FacecycleService::ListJobFiles(grpc::ServerContext* ctx, const pb::ListJobFilesRequest* req,
                                      pb::ListJobFilesResponse* resp) {
  return on_job("ListJobFiles", ctx, req->job_id(), [&](User& user, JobRecord& job) {
    std::string dir;
    if (auto s = local_job_folder(job, dir); !s.ok()) return s;
    resp->set_job_dir(dir);
    for (const auto& f : list_job_files(dir)) {
      auto* o = resp->add_files();
      o->set_path(f.path);
      o->set_size(f.size);
      o->set_modified_ms(f.modified_ms);
    }
    return Status::OK;
  });
}

Status FacecycleService::FetchJobFile(grpc::ServerContext* ctx, const pb::FetchJobFileRequest* req,
                                      grpc::ServerWriter<pb::FileChunk>* writer) {
  return on_job("FetchJobFile", ctx, req->job_id(), [&](User& user, JobRecord& job) {
    std::string dir;
    if (auto s = local_job_folder(job, dir); !s.ok()) return s;
    int64_t size = 0;
    int fd = -1;
    try {
      fd = open_job_file(dir, req->path(), d_.max_fetch_bytes, size);
    } catch (const JobFileError& e) {
      const std::string msg = "job " + std::to_string(job.id) + ": " + clip(e.what(), 1000);
      if (e.kind == JobFileError::kMissing) return Status(StatusCode::NOT_FOUND, msg);
      if (e.kind == JobFileError::kTooLarge) return Status(StatusCode::RESOURCE_EXHAUSTED, msg);
      return Status(StatusCode::PERMISSION_DENIED, msg);
    }
    std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
    // One chunk in memory at a time, so a large model costs the daemon 1 MiB per download.
    constexpr size_t kChunk = 1 << 20;
    std::string buf(kChunk, '\0');
    int64_t offset = 0;
    Status result = Status::OK;
    do {
      if (ctx->IsCancelled()) {
        result = Status(StatusCode::CANCELLED, "download cancelled");
        break;
      }
      ssize_t n = ::pread(fd, buf.data(), kChunk, offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        result = Status(StatusCode::INTERNAL, "cannot read " + clip(req->path()));
        break;
      }
      pb::FileChunk chunk;
      chunk.set_size(size);
      chunk.set_offset(offset);
      chunk.set_data(buf.data(), static_cast<size_t>(n));
      if (!writer->Write(chunk)) {
        result = Status(StatusCode::CANCELLED, "the client went away");
        break;
      }
      offset += n;
      if (n == 0) break;  // shrank since fstat: the client sees fewer bytes than `size`
    } while (offset < size);
    return result;
  });
}

Status FacecycleService::RetryJob(grpc::ServerContext* ctx, const pb::RetryJobRequest* req,
                                  pb::RetryJobResponse* resp) {
  return on_job("RetryJob", ctx, req->job_id(), [&](User& user, JobRecord& job) {
    auto r = d_.queue.retry_failed(job.id, user.name);
    if (auto s = retry_status(r, job.id); !s.ok()) return s;
    spdlog::info("job {}: {} failed item(s) retried by {}", job.id, r.requeued, user.name);
    fill_job(r.job, resp->mutable_job());
    resp->set_items_requeued(r.requeued);
    resp->set_after_event_id(r.event_id - 1);
    return Status::OK;
  });
}

Status FacecycleService::ListItems(grpc::ServerContext* ctx, const pb::ListItemsRequest* req,
                                   pb::ListItemsResponse* resp) {
  return on_job("ListItems", ctx, req->job_id(), [&](User& user, JobRecord& job) {
    if (req->offset() < 0) return Status(StatusCode::INVALID_ARGUMENT, "offset must be 0 or more");
    const int limit = req->limit() > 0 ? std::min(req->limit(), 1000) : 50;
    auto page =
        d_.queue.item_page(job.id, from_proto<ItemState>(req->state()), req->offset(), limit);
    for (const auto& it : page.items) fill_item(it, resp->add_items());
    resp->set_total(page.total);
    return Status::OK;
  });
}

Status FacecycleService::GetVersion(grpc::ServerContext* ctx, const pb::GetVersionRequest*,
                                    pb::VersionInfo* resp) {
  return guarded("GetVersion", [&] {
    User user;
    if (auto s = identify(ctx, user); !s.ok()) return s;
    fill_version(d_.models, resp);
    return Status::OK;
  });
}

}  // namespace fcd
