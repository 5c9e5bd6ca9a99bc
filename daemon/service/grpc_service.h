// The facecycle.v1.Facecycle gRPC service.
#pragma once

#include <atomic>
#include <string>

#include "config.h"
#include "facecycle/v1/facecycle.grpc.pb.h"
#include "models/model_registry.h"
#include "models/plugin_host.h"
#include "paths.h"
#include "service/auth.h"
#include "store/job_store.h"
#include "workers/worker_pool.h"

namespace fcd {

struct ServiceDeps {
  const Config& config;
  JobStore& queue;
  Auth& auth;
  const PluginHost& plugins;
  ModelRegistry& models;
  const AllowedRoots& roots;
  WorkerPool* pool = nullptr;  // null in tests without workers
  const std::atomic<bool>* stopping = nullptr;
  int64_t max_fetch_bytes = int64_t{1} << 30;  // FetchJobFile's cap per file
};

class FacecycleService final : public facecycle::v1::Facecycle::Service {
 public:
  explicit FacecycleService(ServiceDeps deps) : d_(deps) {}

  grpc::Status SubmitTransform(grpc::ServerContext*, const facecycle::v1::SubmitTransformRequest*,
                               facecycle::v1::SubmitResponse*) override;
  grpc::Status SubmitTrain(grpc::ServerContext*, const facecycle::v1::SubmitTrainRequest*,
                           facecycle::v1::SubmitResponse*) override;
  grpc::Status GetJob(grpc::ServerContext*, const facecycle::v1::GetJobRequest*,
                      facecycle::v1::Job*) override;
  grpc::Status ListJobs(grpc::ServerContext*, const facecycle::v1::ListJobsRequest*,
                        facecycle::v1::ListJobsResponse*) override;
  grpc::Status CancelJob(grpc::ServerContext*, const facecycle::v1::CancelJobRequest*,
                         facecycle::v1::CancelJobResponse*) override;
  grpc::Status ListPlugins(grpc::ServerContext*, const facecycle::v1::ListPluginsRequest*,
                           facecycle::v1::ListPluginsResponse*) override;
  grpc::Status ListModels(grpc::ServerContext*, const facecycle::v1::ListModelsRequest*,
                          facecycle::v1::ListModelsResponse*) override;
  grpc::Status ActivateModel(grpc::ServerContext*, const facecycle::v1::ActivateModelRequest*,
                             facecycle::v1::ActivateModelResponse*) override;
  grpc::Status WatchJob(grpc::ServerContext*, const facecycle::v1::WatchJobRequest*,
                        grpc::ServerWriter<facecycle::v1::Event>*) override;
  grpc::Status ListJobFiles(grpc::ServerContext*, const facecycle::v1::ListJobFilesRequest*,
                            facecycle::v1::ListJobFilesResponse*) override;
  grpc::Status FetchJobFile(grpc::ServerContext*, const facecycle::v1::FetchJobFileRequest*,
                            grpc::ServerWriter<facecycle::v1::FileChunk>*) override;
  grpc::Status RetryJob(grpc::ServerContext*, const facecycle::v1::RetryJobRequest*,
                        facecycle::v1::RetryJobResponse*) override;
  grpc::Status ListItems(grpc::ServerContext*, const facecycle::v1::ListItemsRequest*,
                         facecycle::v1::ListItemsResponse*) override;
  grpc::Status GetVersion(grpc::ServerContext*, const facecycle::v1::GetVersionRequest*,
                          facecycle::v1::VersionInfo*) override;

 private:
  grpc::Status identify(grpc::ServerContext* ctx, User& user);
  // OK while the token that opened a stream still works; UNAUTHENTICATED, saying why, after it
  // was revoked or expired.
  grpc::Status recheck_token(const std::string& token);
  // The job when `user` may see it; NOT_FOUND / PERMISSION_DENIED otherwise.
  grpc::Status accessible_job(const User& user, int64_t id, JobRecord& job);
  // An RPC on one job: identifies the caller, finds the job they may see, then runs
  // body(user, job), all through guarded() (grpc_service.cpp).
  template <class F>
  grpc::Status on_job(const char* rpc, grpc::ServerContext* ctx, int64_t job_id, F&& body);
  // The job's folder in this daemon's jobs_dir; FAILED_PRECONDITION, saying which daemon holds
  // it, for a job that ran on another daemon whose jobs_dir this one does not see.
  grpc::Status local_job_folder(const JobRecord& job, std::string& dir);
  grpc::Status check_train_policy(const User& user, const facecycle::v1::SubmitTrainRequest& req,
                                  std::string& run_name, std::vector<std::string>& tags);

  ServiceDeps d_;
};

// Health: the server-wide status ("") and the service's own name, which probes such as
// `grpc_health_probe -service facecycle.v1.Facecycle` ask for (they got NOT_FOUND). Needs
// grpc::EnableDefaultHealthCheckService(true) before the server was built.
void set_serving(grpc::Server& server, bool serving);

// Conversions, shared with tests.
void fill_job(const JobRecord& r, facecycle::v1::Job* out);
void fill_event(const EventRecord& e, facecycle::v1::Event* out);

}  // namespace fcd
