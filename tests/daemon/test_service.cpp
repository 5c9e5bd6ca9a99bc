// The gRPC service in-process, over a unix socket (user "local") and TCP (tokens), with real
// workers running the daemon-test-good stage.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <thread>

#include "facecycle/core/image_io.h"
#include "facecycle/plugin.h"
#include "service/auth.h"
#include "service/grpc_service.h"
#include "store/migrations.h"
#include "store/sqlite_job_store.h"
#include "temp_dir.h"
#include "workers/train_runner.h"
#include "workers/transform_plan.h"

namespace {

namespace fs = std::filesystem;
namespace pb = facecycle::v1;

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(tmp_ / "photos");
    fs::create_directories(tmp_ / "elsewhere");
    cv::Mat img(24, 32, CV_8UC3, cv::Scalar(10, 20, 30));
    img.at<cv::Vec3b>(0, 0) = {200, 100, 50};
    cv::imwrite(tmp_ / "photos/a.png", img);
    cv::imwrite(tmp_ / "photos/bad.png", img);
    cv::imwrite(tmp_ / "elsewhere/x.png", img);

    cfg_.data_dir = tmp_ / "data";
    fs::create_directories(cfg_.data_dir);
    cfg_.workers = 2;
    cfg_.pipelines["transform"] = {"daemon-test-good"};
    cfg_.pipelines["whole_image"] = {"generate-{task}"};
    cfg_.plugin_tables["daemon-test-good"] = "fail_on = \"bad\"\nslow_on = \"slow\"\n";
    fcd::finalize_config(cfg_);

    db_ = std::make_unique<fcd::Database>(cfg_.data_dir + "/facecycle.db");
    fcd::apply_migrations(*db_);
    aux_ = std::make_unique<fcd::Database>(cfg_.data_dir + "/facecycle.db");
    queue_ = std::make_unique<fcd::SqliteJobStore>(*db_);
    auth_ = std::make_unique<fcd::Auth>(*aux_);
    bob_ = auth_->add_token("bob", false);
    admin_ = auth_->add_token("root", true);
    roots_.set_data_dir(cfg_.data_dir);  // as facecycled does
    roots_.add(tmp_ / "photos");
    plugins_ = std::make_unique<fcd::PluginHost>(cfg_.plugin_tables);
    plugins_->load_dirs({FC_DAEMON_TEST_PLUGIN_DIR, FC_REFUSED_TEST_PLUGIN_DIR});
    models_ = std::make_unique<fcd::ModelRegistry>(
        *aux_, std::vector<std::string>{tmp_ / "models", tmp_ / "shipped"}, nullptr);
    pool_ = std::make_unique<fcd::WorkerPool>(cfg_, *queue_, *plugins_, *models_, roots_);
    service_ = std::make_unique<fcd::FacecycleService>(fcd::ServiceDeps{
        cfg_, *queue_, *auth_, *plugins_, *models_, roots_, pool_.get(), &stopping_});

    grpc::EnableDefaultHealthCheckService(true);  // as facecycled does
    grpc::ServerBuilder b;
    sock_ = cfg_.data_dir + "/t.sock";
    b.AddListeningPort("unix:" + sock_, grpc::InsecureServerCredentials());
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(service_.get());
    server_ = b.BuildAndStart();
    ASSERT_TRUE(server_);
    fcd::set_serving(*server_, true);
    pool_->start();
    local_ = pb::Facecycle::NewStub(
        grpc::CreateChannel("unix:" + sock_, grpc::InsecureChannelCredentials()));
    tcp_ = pb::Facecycle::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                                      grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    stopping_ = true;
    pool_->stop();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }

  static std::unique_ptr<grpc::ClientContext> ctx(const std::string& token = "") {
    auto c = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) c->AddMetadata("authorization", "Bearer " + token);
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return c;
  }

  pb::SubmitTransformRequest transform_request() {
    pb::SubmitTransformRequest r;
    r.add_inputs(tmp_ / "photos");
    r.add_inputs(tmp_ / "photos/missing.png");
    r.set_output_dir(tmp_ / "photos/out");
    r.set_task("age");
    r.set_format("png");
    return r;
  }

  // Watches to the end; returns every event.
  std::vector<pb::Event> watch(int64_t job, int64_t after = 0, const std::string& token = "") {
    auto c = ctx(token);
    pb::WatchJobRequest req;
    req.set_job_id(job);
    req.set_after_event_id(after);
    auto reader = (token.empty() ? local_ : tcp_)->WatchJob(c.get(), req);
    std::vector<pb::Event> out;
    pb::Event e;
    while (reader->Read(&e)) out.push_back(e);
    last_watch_ = reader->Finish();
    return out;
  }

  fcd_test::TempDir tmp_;
  fcd::Config cfg_;
  std::unique_ptr<fcd::Database> db_, aux_;
  std::unique_ptr<fcd::SqliteJobStore> queue_;
  std::unique_ptr<fcd::Auth> auth_;
  fcd::AllowedRoots roots_;
  std::unique_ptr<fcd::PluginHost> plugins_;
  std::unique_ptr<fcd::ModelRegistry> models_;
  std::unique_ptr<fcd::WorkerPool> pool_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<fcd::FacecycleService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string sock_;
  int port_ = 0;
  std::unique_ptr<pb::Facecycle::Stub> local_, tcp_;
  std::string bob_, admin_;
  grpc::Status last_watch_;
};

TEST_F(ServiceTest, TransformRunsToTheEndWithPerItemResults) {
  pb::SubmitResponse resp;
  auto s = local_->SubmitTransform(ctx().get(), transform_request(), &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.job().owner(), "local") << "unix socket without a token is user local";
  EXPECT_EQ(resp.job().items_total(), 3);
  ASSERT_EQ(resp.warnings_size(), 1);
  EXPECT_NE(resp.warnings(0).find("missing.png"), std::string::npos);

  auto events = watch(resp.job().id());
  EXPECT_TRUE(last_watch_.ok()) << last_watch_.error_message();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type(), pb::EVENT_TYPE_STATE);
  EXPECT_EQ(events.back().job().state(), pb::JOB_STATE_SUCCEEDED);

  pb::GetJobRequest g;
  g.set_job_id(resp.job().id());
  pb::Job job;
  ASSERT_TRUE(local_->GetJob(ctx().get(), g, &job).ok());
  EXPECT_EQ(job.state(), pb::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(job.items_done(), 1);
  EXPECT_EQ(job.items_failed(), 2);
  ASSERT_EQ(job.items_size(), 3);
  std::map<std::string, pb::Item> by_name;
  for (const auto& it : job.items()) by_name[fs::path(it.input()).filename()] = it;
  EXPECT_EQ(by_name["a.png"].state(), pb::JOB_STATE_SUCCEEDED);
  EXPECT_NE(by_name["bad.png"].error().find("asked to fail"), std::string::npos);
  EXPECT_NE(by_name["missing.png"].error().find("no such file"), std::string::npos);

  auto out = by_name["a.png"].output();
  ASSERT_TRUE(fs::exists(out)) << out;
  auto flipped = fc::read_image(out).bgr;
  EXPECT_EQ(flipped.at<cv::Vec3b>(0, 31), cv::Vec3b(200, 100, 50));
  EXPECT_EQ(fc::read_image_metadata(out)["facecycle"], "machine-edited");
  const std::string job_id = std::to_string(resp.job().id());
  EXPECT_TRUE(fs::exists(tmp_ / ("photos/out/contact_sheet_job" + job_id + ".png")));
  EXPECT_TRUE(fs::exists(tmp_ / ("photos/out/manifest_job" + job_id + ".jsonl")));
  auto result = nlohmann::json::parse(job.result_json());
  EXPECT_EQ(result["summary"]["items_failed"], 2);
  for (const auto& e : fs::directory_iterator(tmp_ / "photos/out"))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos)
        << "no temporary file may be left behind";
}

TEST_F(ServiceTest, WatchResumesAfterTheLastSeenEvent) {
  pb::SubmitResponse resp;
  ASSERT_TRUE(local_->SubmitTransform(ctx().get(), transform_request(), &resp).ok());
  auto all = watch(resp.job().id());
  ASSERT_GE(all.size(), 4u);
  auto rest = watch(resp.job().id(), all[1].id());
  ASSERT_EQ(rest.size(), all.size() - 2);
  for (size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(rest[i].id(), all[i + 2].id());
  // After the terminal event there is nothing more, and the stream still ends.
  EXPECT_TRUE(watch(resp.job().id(), all.back().id()).empty());
  EXPECT_TRUE(last_watch_.ok());
}

TEST_F(ServiceTest, MalformedRequestsAreInvalidArgumentWithAdvice) {
  auto expect_invalid = [&](pb::SubmitTransformRequest r, const std::string& words) {
    pb::SubmitResponse resp;
    auto s = local_->SubmitTransform(ctx().get(), r, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << words;
    EXPECT_NE(s.error_message().find(words), std::string::npos) << s.error_message();
  };
  auto r = transform_request();
  r.clear_inputs();
  expect_invalid(r, "no inputs");
  r = transform_request();
  r.set_format("gif");
  expect_invalid(r, "use png, jpg or same");
  r = transform_request();
  r.set_whole_image(true);
  r.set_task("hair");
  expect_invalid(r, "unknown task 'hair'");
  r = transform_request();
  r.set_priority(1000);
  expect_invalid(r, "priority 1000 is out of range");
  for (double s : {0.0, -1.0, 3.5}) {
    r = transform_request();
    r.set_strength(s);
    expect_invalid(r, "is out of range: give a number above 0 and at most 3");
  }
  r = transform_request();
  r.clear_inputs();
  r.add_inputs(tmp_ / "elsewhere/x.png");
  expect_invalid(r, "outside the allowed folders");
  r = transform_request();
  r.set_output_dir(tmp_ / "elsewhere/out");
  expect_invalid(r, "outside the allowed folders");
  EXPECT_FALSE(fs::exists(tmp_ / "elsewhere/out"));
  pb::SubmitTrainRequest t;
  pb::SubmitResponse resp;
  EXPECT_EQ(local_->SubmitTrain(ctx().get(), t, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// A folder outside the roots was refused with a text of its own ("folder outside the allowed
// folders; skipped"), so a client could tell which server folders exist. Now an existing folder,
// an existing file and a missing path outside the roots are refused in the same words.
TEST_F(ServiceTest, PathsOutsideTheRootsAreRefusedAlikeWhetherTheyExistOrNot) {
  auto refusal = [&](const std::string& input) {
    auto r = transform_request();
    r.clear_inputs();
    r.add_inputs(input);
    pb::SubmitResponse resp;
    auto s = tcp_->SubmitTransform(ctx(bob_).get(), r, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << input;
    std::string m = s.error_message();
    const auto at = m.find(input);
    return at == std::string::npos ? m : m.erase(at, input.size());
  };
  const std::string missing = refusal(tmp_ / "nowhere/at-all");
  EXPECT_NE(missing.find("outside the allowed folders"), std::string::npos) << missing;
  EXPECT_EQ(refusal(tmp_ / "elsewhere"), missing);
  EXPECT_EQ(refusal(tmp_ / "elsewhere/x.png"), missing);
}

TEST_F(ServiceTest, OnlyAdminsAndTheLocalUserMaySubmitAboveThePriorityCap) {
  auto r = transform_request();
  r.set_priority(100);
  pb::SubmitResponse resp;
  auto s = tcp_->SubmitTransform(ctx(bob_).get(), r, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("--priority 0 or lower"), std::string::npos)
      << s.error_message();
  r.set_priority(0);
  EXPECT_TRUE(tcp_->SubmitTransform(ctx(bob_).get(), r, &resp).ok());
  r.set_priority(100);
  r.set_output_dir(tmp_ / "photos/out2");
  s = tcp_->SubmitTransform(ctx(admin_).get(), r, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.job().priority(), 100);
  r.set_output_dir(tmp_ / "photos/out3");
  EXPECT_TRUE(local_->SubmitTransform(ctx().get(), r, &resp).ok());
}

TEST_F(ServiceTest, TcpNeedsAValidToken) {
  pb::ListJobsRequest req;
  pb::ListJobsResponse resp;
  auto s = tcp_->ListJobs(ctx().get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(s.error_message().find("token add"), std::string::npos) << s.error_message();
  EXPECT_EQ(tcp_->ListJobs(ctx("fc_bogus").get(), req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(local_->ListJobs(ctx("fc_bogus").get(), req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED)
      << "a wrong token is refused on the unix socket too";
  EXPECT_TRUE(tcp_->ListJobs(ctx(bob_).get(), req, &resp).ok());
}

// A token revoked (by `facecycled token revoke`, another process) or expired while its owner
// watches a job ends the stream at once, not when the job ends.
TEST_F(ServiceTest, ARevokedOrExpiredTokenEndsAnOpenWatch) {
  fs::create_directories(tmp_ / "photos/slow");
  cv::Mat img(8, 8, CV_8UC3, cv::Scalar(1, 2, 3));
  for (int i = 0; i < 8; ++i)
    cv::imwrite(tmp_ / ("photos/slow/slow" + std::to_string(i) + ".png"), img);
  auto watch_until_refused = [&](const std::string& token, const std::function<void()>& act) {
    auto r = transform_request();
    r.clear_inputs();
    r.add_inputs(tmp_ / "photos/slow");
    r.set_output_dir(tmp_ / ("photos/out-" + token.substr(3, 8)));
    pb::SubmitResponse resp;
    auto s = tcp_->SubmitTransform(ctx(token).get(), r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::thread actor([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      act();
    });
    auto start = std::chrono::steady_clock::now();
    watch(resp.job().id(), 0, token);
    auto took = std::chrono::steady_clock::now() - start;
    actor.join();
    EXPECT_LT(took, std::chrono::milliseconds(2500))
        << "8 slow items take 6 s: the watch outlived the token";
    EXPECT_EQ(last_watch_.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    pb::CancelJobRequest c;
    c.set_job_id(resp.job().id());
    pb::CancelJobResponse cr;
    local_->CancelJob(ctx().get(), c, &cr);
    return last_watch_.error_message();
  };
  std::string why = watch_until_refused(bob_, [&] {
    fcd::Database other(cfg_.data_dir + "/facecycle.db");
    fcd::Auth(other).revoke("bob");
  });
  EXPECT_NE(why.find("was revoked"), std::string::npos) << why;

  auto brief = auth_->add_token("cy", false, fcd::now_ms() + 600);
  why = watch_until_refused(brief, [] {});
  EXPECT_NE(why.find("expired"), std::string::npos) << why;
}

TEST_F(ServiceTest, OnlyOwnerOrAdminSeesWatchesOrCancelsAJob) {
  pb::SubmitResponse resp;
  ASSERT_TRUE(local_->SubmitTransform(ctx().get(), transform_request(), &resp).ok());
  int64_t id = resp.job().id();
  pb::GetJobRequest g;
  g.set_job_id(id);
  pb::Job job;
  auto s = tcp_->GetJob(ctx(bob_).get(), g, &job);
  // Another user's job looks exactly like a missing one: the owner is not revealed.
  pb::GetJobRequest missing;
  missing.set_job_id(id + 1000);
  auto s_missing = tcp_->GetJob(ctx(bob_).get(), missing, &job);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message().find("local"), std::string::npos) << s.error_message();
  EXPECT_EQ(s_missing.error_code(), grpc::StatusCode::NOT_FOUND);
  auto answer = [](int64_t n) {
    return "no job " + std::to_string(n) + " of yours (`facecycle jobs` lists them)";
  };
  EXPECT_EQ(s.error_message(), answer(id));
  EXPECT_EQ(s_missing.error_message(), answer(id + 1000));
  pb::CancelJobRequest c;
  c.set_job_id(id);
  pb::CancelJobResponse cr;
  EXPECT_EQ(tcp_->CancelJob(ctx(bob_).get(), c, &cr).error_code(), grpc::StatusCode::NOT_FOUND);
  watch(id, 0, bob_);
  EXPECT_EQ(last_watch_.error_code(), grpc::StatusCode::NOT_FOUND);

  pb::ListJobsRequest everyone;
  everyone.set_all_users(true);
  pb::ListJobsResponse mine, bobs_all, admins_own, all;
  ASSERT_TRUE(tcp_->ListJobs(ctx(bob_).get(), {}, &mine).ok());
  EXPECT_EQ(mine.jobs_size(), 0) << "bob sees only his own jobs";
  ASSERT_TRUE(tcp_->ListJobs(ctx(bob_).get(), everyone, &bobs_all).ok());
  EXPECT_EQ(bobs_all.jobs_size(), 0) << "all_users is for admins only";
  ASSERT_TRUE(tcp_->ListJobs(ctx(admin_).get(), {}, &admins_own).ok());
  EXPECT_EQ(admins_own.jobs_size(), 0) << "without all_users an admin lists their own jobs";
  ASSERT_TRUE(tcp_->ListJobs(ctx(admin_).get(), everyone, &all).ok());
  EXPECT_EQ(all.jobs_size(), 1) << "admins see every job when they ask";
  EXPECT_TRUE(tcp_->GetJob(ctx(admin_).get(), g, &job).ok());

  missing.set_job_id(9999);
  EXPECT_EQ(local_->GetJob(ctx().get(), missing, &job).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, CancelMarksJobAndAnEndedJobCannotBeCancelled) {
  pool_->stop();  // nothing runs: the job stays queued
  pb::SubmitResponse resp;
  ASSERT_TRUE(local_->SubmitTransform(ctx().get(), transform_request(), &resp).ok());
  pb::CancelJobRequest c;
  c.set_job_id(resp.job().id());
  pb::CancelJobResponse cr;
  ASSERT_TRUE(local_->CancelJob(ctx().get(), c, &cr).ok());
  EXPECT_EQ(cr.job().state(), pb::JOB_STATE_CANCELLED);
  EXPECT_EQ(cr.job().items_cancelled(), 3);
  auto events = watch(resp.job().id());
  EXPECT_EQ(events.back().job().state(), pb::JOB_STATE_CANCELLED);
  auto s = local_->CancelJob(ctx().get(), c, &cr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("already ended"), std::string::npos);
}

TEST_F(ServiceTest, PluginsAndModelsAreListed) {
  pb::ListPluginsResponse p;
  ASSERT_TRUE(local_->ListPlugins(ctx().get(), {}, &p).ok());
  ASSERT_EQ(p.plugins_size(), 1);
  EXPECT_EQ(p.plugins(0).name(), "daemon-test-good");
  EXPECT_EQ(p.plugins(0).kind(), "stage");
  ASSERT_EQ(p.refused_size(), 4);
  // A plugin built for an older ABI is listed with the file, both versions and the remedy, and
  // the daemon runs on (the other tests of this fixture run jobs past it).
  std::string old_abi;
  for (const auto& r : p.refused())
    if (r.file().find("test-old-abi.so") != std::string::npos) old_abi = r.reason();
  EXPECT_NE(old_abi.find("test-old-abi.so was built for plugin ABI 2, this daemon requires ABI " +
                         std::to_string(FACECYCLE_PLUGIN_ABI_VERSION) + ": rebuild"),
            std::string::npos)
      << old_abi;
  pb::ListModelsResponse m;
  ASSERT_TRUE(local_->ListModels(ctx().get(), {}, &m).ok());
  EXPECT_EQ(m.models_size(), 0);
  pb::ActivateModelRequest a;
  a.set_name("ghost");
  pb::ActivateModelResponse ar;
  EXPECT_EQ(local_->ActivateModel(ctx().get(), a, &ar).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, OnlyAdminsAndTheLocalUserMayChangeTheActiveModel) {
  pb::ActivateModelRequest a;
  a.set_name("ghost");
  pb::ActivateModelResponse ar;
  // bob reaches the permission check, not the lookup: the model serves everyone's jobs.
  EXPECT_EQ(tcp_->ActivateModel(ctx(bob_).get(), a, &ar).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(tcp_->ActivateModel(ctx(admin_).get(), a, &ar).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(local_->ActivateModel(ctx().get(), a, &ar).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace

namespace {

pb::SubmitTrainRequest train_request(const std::string& toml, const std::string& path = "") {
  pb::SubmitTrainRequest r;
  r.set_config_toml(toml);
  r.set_config_path(path);
  return r;
}

std::string repeated(const std::string& part, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += part;
  return s;
}

// A model file with its card in `dir`, as a shipped or trained one looks.
std::string write_model(const std::string& dir, const std::string& name) {
  fs::create_directories(dir);
  std::ofstream(dir + "/" + name + ".pt") << "weights";
  std::ofstream(dir + "/" + name + ".card.json") << "{}";
  return dir + "/" + name + ".pt";
}

// Passing the daemon's own checks is visible as the next refusal: this fixture loads no trainer.
constexpr auto kPassedPolicy = grpc::StatusCode::FAILED_PRECONDITION;

}  // namespace

// These overflowed toml++'s stack on a gRPC thread and killed the daemon (SIGSEGV).
TEST_F(ServiceTest, StackOverflowingTrainingConfigsAreRefusedAndTheDaemonLives) {
  for (const std::string& toml :
       {"k" + repeated(".k", 40000) + " = 1\n", "[k" + repeated(".k", 50000) + "]\n",
        "x = " + repeated("[", 100000) + repeated("]", 100000) + "\n"}) {
    pb::SubmitResponse resp;
    auto s = local_->SubmitTrain(ctx().get(), train_request(toml), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("the training config was refused: line 1:"), std::string::npos)
        << s.error_message();
  }
  pb::ListJobsResponse jobs;
  EXPECT_TRUE(local_->ListJobs(ctx().get(), {}, &jobs).ok());
}

TEST_F(ServiceTest, ANonAdminCannotTrainOverAModelNameThatIsNotTheirs) {
  models_->register_model(write_model(tmp_ / "shipped", "facecycle-utk-v5"));
  auto alice = auth_->add_token("alice", false);
  write_model(tmp_ / "staged", "alices");
  models_->install_model(tmp_ / "staged/alices.pt", tmp_ / "models", "alice", false);
  auto submit = [&](const std::string& token, const std::string& name) {
    pb::SubmitResponse resp;
    return tcp_->SubmitTrain(ctx(token).get(), train_request("model_name = \"" + name + "\"\n"),
                             &resp);
  };
  auto s = submit(bob_, "facecycle-utk-v5");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("model_name: a model called 'facecycle-utk-v5' already exists"),
            std::string::npos)
      << s.error_message();
  s = submit(bob_, "alices");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Who owns a name is not bob's business: the refusal says only that someone else does.
  EXPECT_NE(s.error_message().find("belongs to another user"), std::string::npos)
      << s.error_message();
  EXPECT_EQ(s.error_message().find("belongs to alice"), std::string::npos) << s.error_message();
  EXPECT_EQ(submit(alice, "alices").error_code(), kPassedPolicy) << "her own name";
  EXPECT_EQ(submit(bob_, "bobs-new-one").error_code(), kPassedPolicy) << "a new name";
  EXPECT_EQ(submit(admin_, "facecycle-utk-v5").error_code(), kPassedPolicy) << "admins may";
  EXPECT_EQ(submit(bob_, "../escape").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServiceTest, TrainingConfigPathsMustLieUnderTheAllowedRoots) {
  auto submit = [&](const std::string& toml, const std::string& path = "") {
    pb::SubmitResponse resp;
    return tcp_->SubmitTrain(ctx(bob_).get(), train_request(toml, path), &resp);
  };
  auto expect_refused = [&](const grpc::Status& s, const std::string& words) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << words;
    EXPECT_NE(s.error_message().find(words), std::string::npos) << s.error_message();
  };
  auto s = submit("warm_start = \"/etc/passwd\"\n");
  expect_refused(s, "warm_start: /etc/passwd: outside the allowed folders");
  // Relative paths resolve against the config file's folder, as the trainer resolves them.
  expect_refused(submit("[data]\ndir = \".\"\n", "/etc/evil.toml"),
                 "data.dir: /etc/: outside the allowed folders");
  expect_refused(submit("[eval]\njudge_path = \"../etc/passwd\"\n", "/usr/x.toml"),
                 "eval.judge_path: /etc/passwd: outside");
  expect_refused(submit("[data]\ndir = \"" + tmp_ / "elsewhere" + "\"\n"), "data.dir: ");
  // Inside the roots, and a warm start from a models folder (shipped models live outside them).
  fs::create_directories(tmp_ / "photos/utk");
  EXPECT_EQ(submit("[data]\ndir = \"utk\"\n", tmp_ / "photos/cfg.toml").error_code(),
            kPassedPolicy);
  auto shipped = write_model(tmp_ / "shipped", "base");
  EXPECT_EQ(submit("warm_start = \"../shipped/base.pt\"\n", tmp_ / "photos/cfg.toml").error_code(),
            kPassedPolicy);
  // The data dir is not a root: its database is nobody's input (issue 12 re-run).
  expect_refused(submit("[eval]\njudge_path = \"" + cfg_.data_dir + "/facecycle.db\"\n"),
                 "eval.judge_path: ");
  // A path the daemon cannot read as a string is refused naming its key, as the trainer would,
  // never skipped unchecked; so are tags that are not all strings.
  expect_refused(submit("[eval]\njudge_path = 3\n"), "eval.judge_path: must be a string");
  expect_refused(submit("data = \"photos\"\n"), "data: must be a table");
  expect_refused(submit("tags = [\"a\", 1]\n"), "tags: must be an array of strings");
}

// Issue 12 re-run: the data dir was an allowed root, so mallory copied alice's samples.png (or
// the database) into her own outputs, and could train on or warm-start from alice's job folder.
TEST_F(ServiceTest, AnotherUsersJobFolderAndTheDaemonsFilesAreNoOnesInputs) {
  const auto alice = auth_->add_token("alice", false);
  const int64_t job =
      queue_->submit(fcd::JobKind::kTrain, "alice", 0, "{}", cfg_.data_dir, {{"c.toml", ""}});
  const fs::path dir = fs::path(cfg_.data_dir) / "jobs" / std::to_string(job);
  fs::create_directories(dir / "model");
  cv::imwrite(dir / "samples.png", cv::Mat(24, 32, CV_8UC3, cv::Scalar(1, 2, 3)));
  std::ofstream(dir / "model/hers.pt") << "weights";
  auto transform = [&](const std::string& token, const std::string& input, const char* out) {
    pb::SubmitTransformRequest r = transform_request();
    r.clear_inputs();
    r.add_inputs(input);
    r.set_output_dir(fs::path(tmp_ / "photos") / out);
    pb::SubmitResponse resp;
    auto s = tcp_->SubmitTransform(ctx(token).get(), r, &resp);
    return std::make_pair(s, resp.job().id());
  };
  for (const std::string& input : {(dir / "samples.png").string(), dir.string(),
                                   cfg_.data_dir + "/facecycle.db", cfg_.data_dir + "/jobs"}) {
    auto s = transform(bob_, input, "bobs").first;
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << input;
    EXPECT_NE(s.error_message().find("outside the allowed folders"), std::string::npos)
        << s.error_message();
  }
  // Her own job's files are hers to transform; an admin may read them too.
  for (const auto& [token, out] : {std::pair{alice, "alices"}, std::pair{admin_, "admins"}}) {
    auto [s, id] = transform(token, (dir / "samples.png").string(), out);
    ASSERT_TRUE(s.ok()) << s.error_message();
    watch(id, 0, token);
    EXPECT_TRUE(fs::exists(fs::path(tmp_ / "photos") / out / "samples.png")) << "again as " << out;
  }
  // A job that got past the submit check (queued by an older daemon) fails at run time.
  fcd::TransformSpec spec;
  spec.task = "age";
  const int64_t old =
      queue_->submit(fcd::JobKind::kTransform, "bob", 0, spec.to_json().dump(), tmp_ / "photos",
                     {{dir / "samples.png", tmp_ / "photos/b.png"}});
  watch(old, 0, bob_);
  EXPECT_EQ(queue_->items(old).at(0).state, fcd::ItemState::kFailed);
  EXPECT_FALSE(fs::exists(tmp_ / "photos/b.png"));

  auto train = [&](const std::string& token, const std::string& toml) {
    pb::SubmitResponse resp;
    return tcp_->SubmitTrain(ctx(token).get(), train_request(toml), &resp).error_code();
  };
  const std::string warm = "warm_start = \"" + (dir / "model/hers.pt").string() + "\"\n";
  const std::string data = "[data]\ndir = \"" + dir.string() + "\"\n";
  for (const std::string& toml : {warm, data, "[data]\ndir = \"" + cfg_.data_dir + "\"\n"})
    EXPECT_EQ(train(bob_, toml), grpc::StatusCode::INVALID_ARGUMENT) << toml;
  EXPECT_EQ(train(alice, warm), kPassedPolicy);
  EXPECT_EQ(train(alice, data), kPassedPolicy);
}

// A write the database refuses (a full disk) used to leave the item `running` until a restart.
// The worker keeps the result, claims nothing new, and records it once writes work again.
TEST_F(ServiceTest, AnItemEndTheDatabaseRefusedIsRecordedWhenWritesWorkAgain) {
  fs::create_directories(tmp_ / "photos/slow");
  cv::imwrite(tmp_ / "photos/slow/slow.png", cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)));
  auto r = transform_request();
  r.clear_inputs();
  r.add_inputs(tmp_ / "photos/slow/slow.png");
  pb::SubmitResponse resp;
  ASSERT_TRUE(local_->SubmitTransform(ctx().get(), r, &resp).ok());
  const int64_t id = resp.job().id();
  auto item_state = [&] { return queue_->items(id).at(0).state; };
  auto wait_for = [&](auto done, int ms) {
    for (int i = 0; i < ms / 20 && !done(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return done();
  };
  ASSERT_TRUE(wait_for([&] { return item_state() == fcd::ItemState::kRunning; }, 5000));
  db_->exec("PRAGMA query_only = 1");  // as a full disk: reads work, every write fails
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // the stage ends meanwhile
  EXPECT_EQ(item_state(), fcd::ItemState::kRunning);
  db_->exec("PRAGMA query_only = 0");
  EXPECT_TRUE(wait_for([&] { return item_state() == fcd::ItemState::kSucceeded; }, 5000))
      << fcd::enum_name(item_state());
  EXPECT_TRUE(
      wait_for([&] { return queue_->get_job(id)->state == fcd::JobState::kSucceeded; }, 5000))
      << fcd::enum_name(queue_->get_job(id)->state);
}

// Values quoted in errors are clipped: a 100 KB value used to come back whole in every message.
TEST_F(ServiceTest, ErrorsQuoteLongValuesClipped) {
  const std::string huge(100 * 1024, 'q');
  for (int field = 0; field < 2; ++field) {
    auto r = transform_request();
    r.set_whole_image(true);  // its pipeline names generate-{task}
    (field == 0 ? r.set_task(huge) : r.set_format(huge));
    pb::SubmitResponse resp;
    auto s = local_->SubmitTransform(ctx().get(), r, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_LT(s.error_message().size(), 1000u) << s.error_message().substr(0, 300);
    EXPECT_NE(s.error_message().find("... (102400 bytes)"), std::string::npos);
  }
  pb::ActivateModelRequest a;
  a.set_name(huge);
  pb::ActivateModelResponse ar;
  auto s = local_->ActivateModel(ctx().get(), a, &ar);
  EXPECT_LT(s.error_message().size(), 1000u) << s.error_message().substr(0, 300);
}

TEST_F(ServiceTest, ATransformRequestHoldsAtMostOneHundredThousandItems) {
  auto r = transform_request();
  r.clear_inputs();
  for (int i = 0; i <= 100000; ++i) r.add_inputs("a");
  pb::SubmitResponse resp;
  auto s = local_->SubmitTransform(ctx().get(), r, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("more than the limit of 100000"), std::string::npos)
      << s.error_message().substr(0, 300);
}

// Output names were made unique by trying a-2, a-3, ... from 2 each time: quadratic, so 20,000
// inputs named alike took most of a minute. Now each name remembers its next suffix.
// 20,000 identical inputs (issue 12: the de-duplication was quadratic, 22 s); their speed is a
// benchmark's business, their names this test's.
TEST_F(ServiceTest, ManyInputsWithOneNameGetUniqueNumberedOutputs) {
  fcd::TransformSpec spec;
  spec.inputs.assign(20000, tmp_ / "photos/a.png");
  spec.inputs.push_back(tmp_ / "photos/bad.png");
  spec.output_dir = tmp_ / "photos/out";
  spec.task = "age";
  auto plan = fcd::plan_transform(spec, cfg_, *plugins_, roots_);
  std::set<std::string> outputs;
  for (const auto& it : plan.items) outputs.insert(it.output);
  EXPECT_EQ(outputs.size(), plan.items.size());
  EXPECT_EQ(plan.items[1].output, tmp_ / "photos/out/a-2.png");
  EXPECT_EQ(plan.items[19999].output, tmp_ / "photos/out/a-20000.png");
  EXPECT_EQ(plan.items[20000].output, tmp_ / "photos/out/bad.png");
}

namespace {
// grpc.health.v1.Health/Check by hand (as client/src/cmd_info.cpp): the request is field 1, the
// service name; the response field 1, the status (1 = SERVING). -1 when the call fails.
int health_status(const std::string& target, const std::string& service) {
  grpc::GenericStub stub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::string req = service.empty() ? "" : "\x0a" + std::string(1, char(service.size())) + service;
  grpc::Slice slice(req);
  grpc::ByteBuffer request(&slice, 1), response;
  auto call = stub.PrepareUnaryCall(&ctx, "/grpc.health.v1.Health/Check", request, &cq);
  call->StartCall();
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag;
  bool ok;
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (!status.ok()) return -1;
  std::vector<grpc::Slice> slices;
  response.Dump(&slices);
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return bytes.size() >= 2 && bytes[0] == 0x08 ? bytes[1] : 0;
}
}  // namespace

TEST_F(ServiceTest, HealthChecksNamingTheServiceAreServing) {
  const std::string target = "unix:" + sock_;
  EXPECT_EQ(health_status(target, ""), 1);
  EXPECT_EQ(health_status(target, "facecycle.v1.Facecycle"), 1) << "was NOT_FOUND";
  EXPECT_EQ(health_status(target, "no.such.Service"), -1);
  fcd::set_serving(*server_, false);
  EXPECT_EQ(health_status(target, "facecycle.v1.Facecycle"), 2);
}

namespace {

// Every chunk of one FetchJobFile call, concatenated; the status in `status`.
std::string fetch(pb::Facecycle::Stub& stub, const std::string& token, int64_t job,
                  const std::string& path, grpc::Status& status, int* chunks = nullptr) {
  grpc::ClientContext c;
  if (!token.empty()) c.AddMetadata("authorization", "Bearer " + token);
  pb::FetchJobFileRequest req;
  req.set_job_id(job);
  req.set_path(path);
  auto reader = stub.FetchJobFile(&c, req);
  std::string data;
  pb::FileChunk chunk;
  int n = 0;
  while (reader->Read(&chunk)) {
    EXPECT_EQ(chunk.offset(), static_cast<int64_t>(data.size()));
    data += chunk.data();
    ++n;
  }
  status = reader->Finish();
  if (chunks) *chunks = n;
  return data;
}

}  // namespace

// A training job's folder, as the trainer and the daemon leave it: samples, curves, the model
// (and its card) under model/, a checkpoint folder; plus what a folder must never serve.
TEST_F(ServiceTest, ATrainingJobsFilesReachItsOwnerOverTcpAndNobodyElse) {
  pool_->stop();  // the job only needs to exist; no trainer runs it
  int64_t id =
      queue_->submit(fcd::JobKind::kTrain, "bob", 0, "{}", cfg_.data_dir, {{"c.toml", ""}});
  const fs::path dir = fs::path(cfg_.data_dir) / "jobs" / std::to_string(id);
  fs::create_directories(dir / "model");
  fs::create_directories(dir / "checkpoints");
  std::string samples(2 * 1024 * 1024 + 123, 's');  // three chunks
  for (size_t i = 0; i < samples.size(); i += 4096) samples[i] = static_cast<char>(i / 4096);
  std::ofstream(dir / "samples.png", std::ios::binary) << samples;
  std::ofstream(dir / "loss_curves.png") << "curves";
  std::ofstream(dir / "model/mine.pt") << "weights";
  std::ofstream(dir / "model/mine.card.json") << "{}";
  std::ofstream(dir / "checkpoints/step_100.pt") << "ckpt";
  fs::create_symlink(tmp_ / "elsewhere/x.png", dir / "escape.png");
  fs::create_symlink(cfg_.data_dir, dir / "data");

  pb::ListJobFilesRequest lreq;
  lreq.set_job_id(id);
  pb::ListJobFilesResponse listing;
  ASSERT_TRUE(tcp_->ListJobFiles(ctx(bob_).get(), lreq, &listing).ok());
  EXPECT_EQ(listing.job_dir(), dir.string());
  std::vector<std::string> listed;
  for (const auto& f : listing.files()) listed.push_back(f.path());
  EXPECT_EQ(listed, (std::vector<std::string>{"loss_curves.png", "model/mine.card.json",
                                              "model/mine.pt", "samples.png"}))
      << "top level and model/ only, links left out";
  EXPECT_EQ(listing.files(3).size(), static_cast<int64_t>(samples.size()));

  grpc::Status st;
  int chunks = 0;
  EXPECT_EQ(fetch(*tcp_, bob_, id, "samples.png", st, &chunks), samples);
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(chunks, 3) << "streamed in 1 MiB chunks";
  EXPECT_EQ(fetch(*tcp_, bob_, id, "model/mine.pt", st), "weights");
  EXPECT_EQ(fetch(*tcp_, bob_, id, "checkpoints/step_100.pt", st), "ckpt")
      << "unlisted files inside the folder can be fetched by name";
  EXPECT_EQ(fetch(*tcp_, admin_, id, "loss_curves.png", st), "curves") << "admins may";

  // Another user, or nobody over TCP: the job looks missing, as for GetJob.
  const std::string eve = auth_->add_token("eve", false);
  fetch(*tcp_, eve, id, "samples.png", st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
  EXPECT_EQ(st.error_message(),
            "no job " + std::to_string(id) + " of yours (`facecycle jobs` lists them)");
  EXPECT_EQ(tcp_->ListJobFiles(ctx(eve).get(), lreq, &listing).error_code(),
            grpc::StatusCode::NOT_FOUND);
  fetch(*tcp_, "", id, "samples.png", st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  fetch(*local_, "", id, "samples.png", st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << "the local user is not bob";
}

// A training job refused at run time (its config reads what its owner may not: queued by an
// older daemon, or the folder changed since) used to leave its empty 0700 folders behind.
TEST_F(ServiceTest, ATrainingJobRefusedAtRunTimeLeavesNoFolders) {
  pool_->stop();  // run_train_item is called here, with a trainer that records whether it ran
  struct RecordingTrainer : fc::Trainer {
    bool ran = false;
    void validate(const fc::TrainRequest&) override {}
    void run(const fc::TrainRequest&, fc::HostContext&, fc::TrainHooks&) override { ran = true; }
  } trainer;
  const fs::path jobs = fs::path(cfg_.data_dir) / "jobs";
  fcd::TrainPlaces places{jobs.string(), tmp_ / "models", roots_};
  fc::HostContext host;
  auto run = [&](const fs::path& data_dir) {
    const std::string toml = "[data]\ndir = \"" + data_dir.string() + "\"\n";
    const std::string request = "{\"config_toml\": " + nlohmann::json(toml).dump() + "}";
    fcd::Claim claim;
    claim.job = *queue_->get_job(
        queue_->submit(fcd::JobKind::kTrain, "bob", 0, request, cfg_.data_dir, {{"c.toml", ""}}));
    fcd::run_train_item(claim, trainer, places, *queue_, *models_, host);
    return jobs / std::to_string(claim.job.id);
  };
  fs::create_directories(tmp_ / "elsewhere/faces");
  try {
    run(tmp_ / "elsewhere/faces");
    ADD_FAILURE() << "bob's config reads outside his folders and still ran";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("data.dir"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(trainer.ran);
  EXPECT_TRUE(!fs::exists(jobs) || fs::is_empty(jobs)) << "no folder for the refused job";

  fs::create_directories(tmp_ / "photos/faces");
  const fs::path dir = run(tmp_ / "photos/faces");
  EXPECT_TRUE(trainer.ran);
  EXPECT_TRUE(fs::is_directory(dir / "model")) << "the job that may run gets its folders";
}

// On a shared queue each daemon keeps its job folders in its own data dir: asking another daemon
// for a training job's files says where the job ran, rather than listing nothing.
TEST_F(ServiceTest, ATrainingJobThatRanOnAnotherDaemonSaysWhereItsFolderIs) {
  pool_->stop();
  int64_t id =
      queue_->submit(fcd::JobKind::kTrain, "bob", 0, "{}", cfg_.data_dir, {{"c.toml", ""}});
  queue_->set_result(id, R"({"ran_on": "host-b:/var/lib/facecycle", "job_dir": "/x"})");
  pb::ListJobFilesRequest lreq;
  lreq.set_job_id(id);
  pb::ListJobFilesResponse listing;
  grpc::Status st = tcp_->ListJobFiles(ctx(bob_).get(), lreq, &listing);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("job " + std::to_string(id) +
                                    " ran on the daemon at host-b:/var/lib/facecycle"),
            std::string::npos)
      << st.error_message();
  fetch(*tcp_, bob_, id, "samples.png", st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
  // Once the folder is here (this daemon resumed the job), it is served as usual.
  fs::create_directories(fs::path(cfg_.data_dir) / "jobs" / std::to_string(id));
  EXPECT_TRUE(tcp_->ListJobFiles(ctx(bob_).get(), lreq, &listing).ok());
}

// With one jobs_dir on storage every daemon mounts, the folder of a job another daemon ran is
// here: it is listed and served as this daemon's own, to its owner only.
TEST_F(ServiceTest, AJobFolderInASharedJobsDirIsServedByAnyDaemon) {
  pool_->stop();
  cfg_.jobs_dir = tmp_ / "shared/jobs";
  int64_t id =
      queue_->submit(fcd::JobKind::kTrain, "bob", 0, "{}", cfg_.data_dir, {{"c.toml", ""}});
  const fs::path dir = fs::path(cfg_.jobs_dir) / std::to_string(id);
  queue_->set_result(
      id, R"({"ran_on": "host-b:/var/lib/facecycle", "job_dir": ")" + dir.string() + "\"}");
  fs::create_directories(dir);
  std::ofstream(dir / "samples.png") << "made on host-b";
  pb::ListJobFilesRequest lreq;
  lreq.set_job_id(id);
  pb::ListJobFilesResponse listing;
  ASSERT_TRUE(tcp_->ListJobFiles(ctx(bob_).get(), lreq, &listing).ok());
  ASSERT_EQ(listing.files_size(), 1);
  EXPECT_EQ(listing.files(0).path(), "samples.png");
  grpc::Status st;
  EXPECT_EQ(fetch(*tcp_, bob_, id, "samples.png", st), "made on host-b");
  EXPECT_TRUE(st.ok()) << st.error_message();
  fetch(*tcp_, auth_->add_token("alice", false), id, "samples.png", st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << "another user's job";
}

// A daemon that trains nothing, alone on its queue, refuses training jobs instead of queueing
// them for ever.
TEST_F(ServiceTest, ADaemonThatTrainsNothingRefusesTrainingWhenItIsAlone) {
  cfg_.train_concurrency = 0;
  pb::SubmitResponse resp;
  auto s = tcp_->SubmitTrain(ctx(bob_).get(), train_request("model_name = \"m\"\n"), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("train_concurrency = 0"), std::string::npos)
      << s.error_message();
}

TEST_F(ServiceTest, FetchServesNothingOutsideTheJobsFolder) {
  pool_->stop();
  int64_t id =
      queue_->submit(fcd::JobKind::kTrain, "bob", 0, "{}", cfg_.data_dir, {{"c.toml", ""}});
  int64_t other =
      queue_->submit(fcd::JobKind::kTrain, "bob", 0, "{}", cfg_.data_dir, {{"c.toml", ""}});
  const fs::path dir = fs::path(cfg_.data_dir) / "jobs" / std::to_string(id);
  const fs::path other_dir = fs::path(cfg_.data_dir) / "jobs" / std::to_string(other);
  fs::create_directories(dir / "checkpoints");
  fs::create_directories(other_dir);
  std::ofstream(other_dir / "samples.png") << "the other job's";
  fs::create_symlink(tmp_ / "elsewhere/x.png", dir / "escape.png");
  fs::create_symlink(other_dir, dir / "sibling");
  ::mkfifo((dir / "pipe").c_str(), 0600);
  // A sparse file one byte over the cap: refused before a byte is read.
  std::ofstream(dir / "huge.pt").close();
  fs::resize_file(dir / "huge.pt", (int64_t{1} << 30) + 1);

  grpc::Status st;
  const std::vector<std::string> outside{"../" + std::to_string(other) + "/samples.png",
                                         "../../facecycle.db",
                                         cfg_.data_dir + "/facecycle.db",
                                         "/etc/passwd",
                                         "escape.png",
                                         "sibling/samples.png",
                                         "checkpoints",
                                         "pipe",
                                         ""};
  for (const std::string& path : outside) {
    SCOPED_TRACE(path);
    EXPECT_EQ(fetch(*tcp_, bob_, id, path, st), "");
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  }
  fetch(*tcp_, bob_, id, "missing.png", st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
  fetch(*tcp_, bob_, id, "huge.pt", st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  EXPECT_NE(st.error_message().find("1073741825 bytes"), std::string::npos) << st.error_message();
  EXPECT_EQ(fetch(*tcp_, bob_, other, "samples.png", st), "the other job's")
      << "the same file through its own job";
}

namespace {

// Polls until the job's result names its manifest (written after its last in-flight item).
pb::Job wait_for_manifest(pb::Facecycle::Stub& stub, int64_t id) {
  pb::Job job;
  for (int i = 0; i < 300; ++i) {
    grpc::ClientContext c;
    pb::GetJobRequest g;
    g.set_job_id(id);
    if (stub.GetJob(&c, g, &job).ok() && job.result_json().find("manifest") != std::string::npos)
      return job;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "no manifest after 30 s: " << job.result_json();
  return job;
}

}  // namespace

TEST_F(ServiceTest, ACancelledJobGetsItsManifestAndContactSheet) {
  cv::Mat img(24, 32, CV_8UC3, cv::Scalar(10, 20, 30));
  fs::create_directories(tmp_ / "photos/c");
  // Both workers take a and b, then the two slow ones; e and f wait in the queue.
  for (const char* n : {"a", "b", "slow_c", "slow_d", "slow_e", "slow_f"})
    cv::imwrite(tmp_ / ("photos/c/" + std::string(n) + ".png"), img);
  pb::SubmitTransformRequest r;
  r.add_inputs(tmp_ / "photos/c");
  r.set_output_dir(tmp_ / "photos/cout");
  r.set_task("age");
  pb::SubmitResponse resp;
  ASSERT_TRUE(local_->SubmitTransform(ctx().get(), r, &resp).ok());
  const int64_t id = resp.job().id();
  pb::Job job;
  for (int i = 0; i < 200 && job.items_done() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pb::GetJobRequest g;
    g.set_job_id(id);
    local_->GetJob(ctx().get(), g, &job);
  }
  ASSERT_EQ(job.items_done(), 2);
  pb::CancelJobRequest c;
  c.set_job_id(id);
  pb::CancelJobResponse cr;
  ASSERT_TRUE(local_->CancelJob(ctx().get(), c, &cr).ok());

  job = wait_for_manifest(*local_, id);
  auto result = nlohmann::json::parse(job.result_json());
  const std::string csv = result["manifest"]["csv"], jsonl = result["manifest"]["jsonl"];
  EXPECT_EQ(csv, tmp_ / ("photos/cout/manifest_job" + std::to_string(id) + ".csv"));
  std::ifstream in(csv);
  std::vector<std::string> rows;
  for (std::string l; std::getline(in, l);) rows.push_back(l);
  ASSERT_EQ(rows.size(), 7u) << "a header and every item, the cancelled ones too";
  int succeeded = 0, cancelled = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    succeeded += rows[i].find(",succeeded,") != std::string::npos;
    cancelled += rows[i].find(",cancelled,") != std::string::npos;
  }
  EXPECT_GE(succeeded, 2);
  EXPECT_GE(cancelled, 2) << "slow_e and slow_f never started";
  EXPECT_EQ(succeeded + cancelled, 6);
  std::ifstream jl(jsonl);
  int lines = 0;
  for (std::string l; std::getline(jl, l);) ++lines;
  EXPECT_EQ(lines, 6) << "the complete JSONL replaces the rows appended as items ended";
  ASSERT_TRUE(result.contains("contact_sheet"));
  EXPECT_TRUE(fs::is_regular_file(result["contact_sheet"].get<std::string>()));
  EXPECT_EQ(result["summary"]["items_succeeded"], succeeded);
  EXPECT_EQ(job.state(), pb::JOB_STATE_CANCELLED);
}

TEST_F(ServiceTest, AJobCancelledBeforeAnyItemRanStillGetsItsManifest) {
  pool_->stop();  // nothing runs: every item is cancelled while queued
  pb::SubmitResponse resp;
  ASSERT_TRUE(local_->SubmitTransform(ctx().get(), transform_request(), &resp).ok());
  pb::CancelJobRequest c;
  c.set_job_id(resp.job().id());
  pb::CancelJobResponse cr;
  ASSERT_TRUE(local_->CancelJob(ctx().get(), c, &cr).ok());
  pb::Job job = wait_for_manifest(*local_, resp.job().id());
  auto result = nlohmann::json::parse(job.result_json());
  std::ifstream in(result["manifest"]["csv"].get<std::string>());
  std::string header, row;
  std::getline(in, header);
  int rows = 0;
  while (std::getline(in, row)) {
    ++rows;
    EXPECT_NE(row.find(",cancelled,"), std::string::npos) << row;
  }
  EXPECT_EQ(rows, 3);
  EXPECT_FALSE(result.contains("contact_sheet")) << "nothing succeeded, nothing to show";
}

// retry: only the failed items run again, for the owner or an admin, and a watch follows the
// retry to its own end.
TEST_F(ServiceTest, RetryRerunsOnlyTheFailedItemsForTheOwnerOrAnAdmin) {
  pb::SubmitResponse resp;
  ASSERT_TRUE(local_->SubmitTransform(ctx().get(), transform_request(), &resp).ok());
  const int64_t id = resp.job().id();
  watch(id);
  pb::GetJobRequest g;
  g.set_job_id(id);
  pb::Job before;
  ASSERT_TRUE(local_->GetJob(ctx().get(), g, &before).ok());
  ASSERT_GT(before.items_failed(), 0);
  ASSERT_GT(before.items_done(), 0);

  pb::RetryJobRequest rr;
  rr.set_job_id(id);
  pb::RetryJobResponse rresp;
  EXPECT_EQ(tcp_->RetryJob(ctx(bob_).get(), rr, &rresp).error_code(), grpc::StatusCode::NOT_FOUND)
      << "another user's job looks missing";
  auto s = tcp_->RetryJob(ctx(admin_).get(), rr, &rresp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(rresp.items_requeued(), before.items_failed());

  auto events = watch(id, rresp.after_event_id());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().job().state(), pb::JOB_STATE_QUEUED);
  int item_events = 0;
  for (const auto& e : events) item_events += e.type() == pb::EVENT_TYPE_ITEM;
  EXPECT_EQ(item_events, before.items_failed());
  auto all = watch(id);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back().id(), events.back().id()) << "a replay ends at the retry's end";

  pb::Job after;
  ASSERT_TRUE(local_->GetJob(ctx().get(), g, &after).ok());
  ASSERT_EQ(after.items_size(), before.items_size());
  for (int i = 0; i < after.items_size(); ++i)
    EXPECT_EQ(after.items(i).attempts(), before.items(i).state() == pb::JOB_STATE_FAILED ? 2 : 1)
        << after.items(i).input();
}

TEST_F(ServiceTest, ListItemsPagesAndASummaryLeavesItemsOut) {
  pb::SubmitResponse resp;
  ASSERT_TRUE(local_->SubmitTransform(ctx().get(), transform_request(), &resp).ok());
  const int64_t id = resp.job().id();
  watch(id);
  pb::GetJobRequest g;
  g.set_job_id(id);
  g.set_summary_only(true);
  pb::Job job;
  ASSERT_TRUE(local_->GetJob(ctx().get(), g, &job).ok());
  EXPECT_EQ(job.items_size(), 0);
  auto result = nlohmann::json::parse(job.result_json());
  EXPECT_FALSE(result.contains("items"));
  EXPECT_TRUE(result.contains("summary"));

  pb::ListItemsRequest l;
  l.set_job_id(id);
  l.set_offset(1);
  l.set_limit(1);
  pb::ListItemsResponse page;
  ASSERT_TRUE(local_->ListItems(ctx().get(), l, &page).ok());
  EXPECT_EQ(page.total(), job.items_total());
  ASSERT_EQ(page.items_size(), 1);
  EXPECT_EQ(page.items(0).index(), 1);

  l.set_offset(0);
  l.set_limit(0);
  l.set_state(pb::JOB_STATE_FAILED);
  ASSERT_TRUE(local_->ListItems(ctx().get(), l, &page).ok());
  EXPECT_EQ(page.total(), job.items_failed());
  for (const auto& it : page.items()) EXPECT_EQ(it.state(), pb::JOB_STATE_FAILED);

  EXPECT_EQ(tcp_->ListItems(ctx(bob_).get(), l, &page).error_code(), grpc::StatusCode::NOT_FOUND);
  l.set_offset(-1);
  EXPECT_EQ(local_->ListItems(ctx().get(), l, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServiceTest, ListJobsGivesSummariesWithoutThePerItemList) {
  pb::SubmitResponse resp;
  ASSERT_TRUE(local_->SubmitTransform(ctx().get(), transform_request(), &resp).ok());
  const int64_t id = resp.job().id();
  watch(id);
  pb::ListJobsResponse list;
  ASSERT_TRUE(local_->ListJobs(ctx().get(), pb::ListJobsRequest(), &list).ok());
  ASSERT_EQ(list.jobs_size(), 1);
  const pb::Job& job = list.jobs(0);
  EXPECT_EQ(job.id(), id);
  EXPECT_EQ(job.items_size(), 0);
  EXPECT_GT(job.items_total(), 1);
  EXPECT_EQ(job.items_done() + job.items_failed(), job.items_total());
  EXPECT_FALSE(job.output_dir().empty());
  auto result = nlohmann::json::parse(job.result_json());
  EXPECT_FALSE(result.contains("items")) << result.dump(2);
  EXPECT_TRUE(result.contains("summary")) << result.dump(2);
  EXPECT_TRUE(result.contains("manifest")) << result.dump(2);

  // GetJob without summary_only still gives the whole result, for older clients.
  pb::GetJobRequest g;
  g.set_job_id(id);
  pb::Job full;
  ASSERT_TRUE(local_->GetJob(ctx().get(), g, &full).ok());
  EXPECT_TRUE(nlohmann::json::parse(full.result_json()).contains("items"));
}

TEST_F(ServiceTest, GetVersionNamesTheDaemonAndThePluginAbi) {
  pb::VersionInfo v;
  ASSERT_TRUE(local_->GetVersion(ctx().get(), pb::GetVersionRequest(), &v).ok());
  EXPECT_FALSE(v.daemon_version().empty());
  EXPECT_EQ(v.plugin_abi_version(), FACECYCLE_PLUGIN_ABI_VERSION);
  EXPECT_FALSE(v.plugin_build().empty());
  EXPECT_TRUE(v.active_model().empty()) << "no model is registered here";
  EXPECT_EQ(tcp_->GetVersion(ctx().get(), pb::GetVersionRequest(), &v).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}
