// The daemon's HTTP listener in-process: /metrics with real workers running the daemon-test-good
// stage (values change as items run; only admins may scrape; promtool accepts the text), and
// bad input from the network (garbage, oversized headers, slow senders) answered without harm.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <regex>
#include <thread>

#include "http/daemon_routes.h"
#include "http/listener.h"
#include "loopback_http.h"
#include "metrics/sources.h"
#include "service/auth.h"
#include "service/grpc_service.h"
#include "store/migrations.h"
#include "store/sqlite_job_store.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
namespace pb = facecycle::v1;
using namespace std::chrono_literals;

// Sends `raw` to 127.0.0.1:port and returns everything that comes back until the server closes
// the connection (or 5 s pass). `finish`: then say that nothing more comes (shutdown SHUT_WR), as
// a client that is done sending does; without it, the connection stays open to the server.
std::string talk(int port, const std::string& raw, bool finish = true) {
  return fcd_test::loopback_exchange(port, raw, 5, finish).value_or("(connect failed)");
}

std::string get(int port, const std::string& path, const std::string& token = "") {
  return talk(port, fcd_test::get_request(path, token));
}

int status_of(const std::string& response) {
  return response.size() > 12 && response.rfind("HTTP/1.", 0) == 0
             ? std::stoi(response.substr(9, 3))
             : -1;
}

std::string body_of(const std::string& response) {
  auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

// The value of the sample written exactly as `series` ("name{labels}"), or -1 when absent.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

class HttpMetrics : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(tmp_ / "photos");
    cv::Mat img(24, 32, CV_8UC3, cv::Scalar(10, 20, 30));
    for (auto name : {"a.png", "bad.png"}) cv::imwrite(tmp_ / (std::string("photos/") + name), img);
    cfg_.data_dir = tmp_ / "data";
    fs::create_directories(cfg_.data_dir);
    cfg_.workers = 2;
    cfg_.pipelines["transform"] = {"daemon-test-good"};
    cfg_.plugin_tables["daemon-test-good"] = "fail_on = \"bad\"\nslow_on = \"slow\"\n";
    fcd::finalize_config(cfg_);
    const std::string db_path = cfg_.data_dir + "/facecycle.db";
    db_ = std::make_unique<fcd::Database>(db_path);
    fcd::apply_migrations(*db_);
    aux_ = std::make_unique<fcd::Database>(db_path);
    queue_ = std::make_unique<fcd::SqliteJobStore>(*db_);
    auth_ = std::make_unique<fcd::Auth>(*aux_);
    bob_ = auth_->add_token("bob", false);
    admin_ = auth_->add_token("root", true);
    roots_.set_data_dir(cfg_.data_dir);
    roots_.add(tmp_ / "photos");
    plugins_ = std::make_unique<fcd::PluginHost>(cfg_.plugin_tables);
    plugins_->load_dirs({FC_DAEMON_TEST_PLUGIN_DIR});
    models_ = std::make_unique<fcd::ModelRegistry>(*aux_, std::vector<std::string>{tmp_ / "models"},
                                                   nullptr);
    pool_ =
        std::make_unique<fcd::WorkerPool>(cfg_, *queue_, *plugins_, *models_, roots_, &metrics_);
    service_ = std::make_unique<fcd::FacecycleService>(fcd::ServiceDeps{
        cfg_, *queue_, *auth_, *plugins_, *models_, roots_, pool_.get(), &stopping_});
    grpc::ServerBuilder b;
    b.AddListeningPort("unix:" + cfg_.data_dir + "/t.sock", grpc::InsecureServerCredentials());
    b.RegisterService(service_.get());
    server_ = b.BuildAndStart();
    ASSERT_TRUE(server_);
    pool_->start();
    stub_ = pb::Facecycle::NewStub(grpc::CreateChannel("unix:" + cfg_.data_dir + "/t.sock",
                                                       grpc::InsecureChannelCredentials()));
    // As facecycled's start_http does: through a store on a connection of its own.
    reads_db_ = std::make_unique<fcd::Database>(db_path);
    reads_ = std::make_unique<fcd::SqliteJobStore>(*reads_db_);
    metrics_.add_source("queue", fcd::queue_source(*reads_));
    metrics_.add_source("model", fcd::model_source(*models_));
    fcd::http::Router router;
    fcd::http::add_daemon_routes(router, metrics_, *auth_, stopping_);
    http_ = std::make_unique<fcd::http::Listener>("127.0.0.1:0", std::move(router), "--http");
    http_->start();
    port_ = http_->port();
  }
  void TearDown() override {
    http_->stop();
    stopping_ = true;
    pool_->stop();
    server_->Shutdown(std::chrono::system_clock::now() + 1s);
  }

  // Submits a transform of `inputs` as the local user and waits for its end.
  void run_job(const std::vector<std::string>& inputs, const std::string& out) {
    pb::SubmitTransformRequest r;
    for (const auto& i : inputs) r.add_inputs(tmp_ / ("photos/" + i));
    r.set_output_dir(tmp_ / ("photos/" + out));
    r.set_task("age");
    r.set_format("png");
    pb::SubmitResponse resp;
    grpc::ClientContext c;
    ASSERT_TRUE(stub_->SubmitTransform(&c, r, &resp).ok());
    for (auto until = std::chrono::steady_clock::now() + 20s;
         std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(20ms)) {
      auto j = queue_->get_job(resp.job().id());
      if (j && fcd::is_terminal(j->state)) return;
    }
    FAIL() << "job did not end";
  }

  std::string scrape() { return body_of(get(port_, "/metrics", admin_)); }

  fcd_test::TempDir tmp_;
  fcd::Config cfg_;
  fcd::Metrics metrics_;
  std::unique_ptr<fcd::Database> db_, aux_, reads_db_;
  std::unique_ptr<fcd::SqliteJobStore> queue_, reads_;
  std::unique_ptr<fcd::Auth> auth_;
  fcd::AllowedRoots roots_;
  std::unique_ptr<fcd::PluginHost> plugins_;
  std::unique_ptr<fcd::ModelRegistry> models_;
  std::unique_ptr<fcd::WorkerPool> pool_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<fcd::FacecycleService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<pb::Facecycle::Stub> stub_;
  std::unique_ptr<fcd::http::Listener> http_;
  int port_ = 0;
  std::string bob_, admin_;
};

TEST_F(HttpMetrics, MetricsAnswerOnlyToAnAdminToken) {
  auto none = get(port_, "/metrics");
  EXPECT_EQ(status_of(none), 401) << none;
  EXPECT_NE(none.find("WWW-Authenticate: Bearer"), std::string::npos) << none;
  EXPECT_EQ(status_of(get(port_, "/metrics", "fc_not-a-token")), 401);
  auto bob = get(port_, "/metrics", bob_);
  EXPECT_EQ(status_of(bob), 403) << bob;
  EXPECT_EQ(body_of(bob).find("facecycle_"), std::string::npos) << "no metric leaks to bob";
  auto admin = get(port_, "/metrics", admin_);
  ASSERT_EQ(status_of(admin), 200) << admin;
  EXPECT_NE(admin.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << admin;
  auto health = get(port_, "/healthz");
  EXPECT_EQ(status_of(health), 200);
  EXPECT_EQ(body_of(health), "ok\n");
}

TEST_F(HttpMetrics, ValuesFollowTheItemsThatRan) {
  const auto before = scrape();
  for (auto name : {"facecycle_jobs", "facecycle_items", "facecycle_items_finished_total",
                    "facecycle_item_duration_seconds", "facecycle_generator_batch_size",
                    "facecycle_generator_queue_wait_seconds", "facecycle_model_loads_total",
                    "facecycle_model_load_seconds", "facecycle_model_info",
                    "facecycle_user_running_items", "facecycle_user_queued_items"})
    EXPECT_NE(before.find(std::string("# TYPE ") + name + " "), std::string::npos) << name;
  const std::string ok = R"(facecycle_items_finished_total{kind="transform",outcome="succeeded"})";
  const std::string failed = R"(facecycle_items_finished_total{kind="transform",outcome="failed"})";
  EXPECT_EQ(sample(before, ok), 0) << before;
  EXPECT_EQ(sample(before, R"(facecycle_jobs{kind="transform",state="succeeded"})"), 0);

  run_job({"a.png", "bad.png"}, "out");
  const auto after = scrape();
  EXPECT_EQ(sample(after, ok), 1) << after;
  EXPECT_EQ(sample(after, failed), 1);
  EXPECT_EQ(sample(after, R"(facecycle_jobs{kind="transform",state="succeeded"})"), 1);
  EXPECT_EQ(sample(after, R"(facecycle_items{state="succeeded"})"), 1);
  EXPECT_EQ(sample(after, R"(facecycle_items{state="failed"})"), 1);
  EXPECT_EQ(sample(after, R"(facecycle_item_duration_seconds_count{kind="transform"})"), 2);
  // Stage series appear with the first stage run; the stage that threw (bad.png) is not timed.
  EXPECT_EQ(sample(after, R"(facecycle_stage_duration_seconds_count{stage="daemon-test-good"})"), 1)
      << after;
}

TEST_F(HttpMetrics, RunningItemsAreCountedPerUser) {
  cv::imwrite(tmp_ / "photos/slow.png", cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)));
  std::thread job([&] { run_job({"slow.png"}, "out-slow"); });
  double running = -1;
  for (auto until = std::chrono::steady_clock::now() + 5s;
       running != 1 && std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(20ms))
    running = sample(scrape(), R"(facecycle_user_running_items{user="local"})");
  job.join();
  EXPECT_EQ(running, 1) << "the slow item (1.5 s) shows as local's running item";
  EXPECT_EQ(sample(scrape(), R"(facecycle_user_running_items{user="local"})"), -1)
      << "a user with nothing running has no series";
}

// The issue asks that Prometheus' own checker accepts the output (Debian `prometheus`).
TEST_F(HttpMetrics, PromtoolAcceptsTheOutput) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "promtool is not installed (apt install prometheus): output not checked";
  run_job({"a.png", "bad.png"}, "out");
  const std::string file = tmp_ / "metrics.txt";
  std::ofstream(file) << scrape();
  const std::string log = tmp_ / "promtool.log";
  int rc = std::system(("promtool check metrics < " + file + " > " + log + " 2>&1").c_str());
  std::ifstream in(log);
  std::string said((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(rc, 0) << said;
  EXPECT_EQ(said, "") << "promtool found problems";
}

class HttpServer : public ::testing::Test {
 protected:
  void start(fcd::http::Limits limits = {}) {
    fcd::http::Router router;
    router.get("/healthz", [](const fcd::http::Request& req) {
      return fcd::http::make_response(req, fcd::http::bhttp::status::ok, "ok\n");
    });
    router.get("/boom", [](const fcd::http::Request&) -> fcd::http::Response {
      throw std::runtime_error("a handler bug");
    });
    router.get_prefix("/api/", [](const fcd::http::Request& req) {
      return fcd::http::make_response(req, fcd::http::bhttp::status::ok,
                                      "api " + fcd::http::request_path(req));
    });
    router.get("/api/exact", [](const fcd::http::Request& req) {
      return fcd::http::make_response(req, fcd::http::bhttp::status::ok, "exact");
    });
    http_ =
        std::make_unique<fcd::http::Listener>("127.0.0.1:0", std::move(router), "--http", limits);
    http_->start();
    port_ = http_->port();
  }
  bool still_up() { return status_of(get(port_, "/healthz")) == 200; }

  std::unique_ptr<fcd::http::Listener> http_;
  int port_ = 0;
};

TEST_F(HttpServer, RoutesByPathAndMethod) {
  start();
  EXPECT_EQ(status_of(get(port_, "/nowhere")), 404);
  EXPECT_EQ(body_of(get(port_, "/api/jobs?page=2")), "api /api/jobs");
  EXPECT_EQ(body_of(get(port_, "/api/exact")), "exact");
  auto post = talk(port_, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(status_of(post), 405) << post;
  EXPECT_NE(post.find("Allow: GET"), std::string::npos) << post;
  auto boom = get(port_, "/boom");
  EXPECT_EQ(status_of(boom), 500);
  EXPECT_EQ(boom.find("a handler bug"), std::string::npos) << "the reason stays in the log";
  EXPECT_TRUE(still_up());
}

TEST_F(HttpServer, BadRequestsAreAnsweredAndTheServerStaysUp) {
  start();
  EXPECT_EQ(status_of(talk(port_, "this is not HTTP at all\r\n\r\n")), 400);
  EXPECT_EQ(status_of(talk(port_, std::string(4096, '\x01') + "\r\n\r\n")), 400);
  const std::string big_header = "X-Filler: " + std::string(20000, 'a') + "\r\n";
  EXPECT_EQ(status_of(talk(port_, "GET /healthz HTTP/1.1\r\nHost: x\r\n" + big_header + "\r\n")),
            431);
  EXPECT_EQ(status_of(talk(port_,
                           "POST /healthz HTTP/1.1\r\nHost: x\r\n"
                           "Content-Length: 100000000\r\n\r\n")),
            413);
  EXPECT_EQ(status_of(talk(port_,
                           "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                           "Transfer-Encoding: chunked\r\n\r\nzz\r\n")),
            400);
  EXPECT_EQ(talk(port_, ""), "") << "a client that sends nothing and closes gets nothing";
  EXPECT_TRUE(still_up());
}

TEST_F(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  const std::string one = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  auto two = talk(port_, one + one + "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
  size_t n = 0;
  for (size_t at = 0; (at = two.find("HTTP/1.1 200", at)) != std::string::npos; ++at) ++n;
  EXPECT_EQ(n, 3u) << two;
}

TEST_F(HttpServer, SlowAndIdleClientsAreCutOff) {
  fcd::http::Limits limits;
  limits.read_timeout = 300ms;
  start(limits);
  const auto t0 = std::chrono::steady_clock::now();
  auto partial = talk(port_, "GET /healthz HTTP/1.1\r\nHost: x\r\n", false);  // never ends
  EXPECT_EQ(partial, "") << "a timed-out request gets no answer, only a close";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_TRUE(still_up());
}

TEST_F(HttpServer, ConnectionsBeyondTheCapAreClosed) {
  fcd::http::Limits limits;
  limits.max_connections = 2;
  limits.read_timeout = 2000ms;
  start(limits);
  std::vector<int> held;
  for (int i = 0; i < 2; ++i) {  // two idle connections take both places
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    held.push_back(fd);
  }
  std::this_thread::sleep_for(100ms);  // let the listener accept them
  EXPECT_EQ(get(port_, "/healthz"), "");
  for (int fd : held) ::close(fd);
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(still_up());
}

TEST_F(HttpServer, ListenErrorsNameTheSetting) {
  start();
  try {
    fcd::http::Listener taken("127.0.0.1:" + std::to_string(port_), {}, "--http / http_listen");
    FAIL() << "a taken port was bound";
  } catch (const fcd::http::ListenError& e) {
    EXPECT_NE(std::string(e.what()).find("--http / http_listen"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
  for (auto bad :
       {"9464", "example.com:9464", "127.0.0.1:", "127.0.0.1:99999", ":9464", "127.0.0.1:94x4"}) {
    try {
      fcd::http::Listener l(bad, {}, "--http");
      ADD_FAILURE() << bad << " was accepted";
    } catch (const fcd::http::ListenError& e) {
      EXPECT_NE(std::string(e.what()).find("HOST:PORT"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(fcd::http::parse_listen_address("[::1]:0").address().to_string(), "::1");
  EXPECT_EQ(fcd::http::parse_listen_address("localhost:9464").port(), 9464);
}

TEST(HttpConfig, NonLoopbackAddressesNeedThePlainTextSetting) {
  EXPECT_FALSE(fcd::http::check_http_exposure("127.0.0.1:9464", false));
  EXPECT_FALSE(fcd::http::check_http_exposure("[::1]:9464", false));
  EXPECT_FALSE(fcd::http::check_http_exposure("[::ffff:127.0.0.1]:9464", false));
  EXPECT_FALSE(fcd::http::check_http_exposure("localhost:9464", false));
  EXPECT_TRUE(fcd::http::check_http_exposure("0.0.0.0:9464", true));
  try {
    fcd::http::check_http_exposure("0.0.0.0:9464", false);
    FAIL() << "a wildcard address was accepted without allow_plaintext_tokens";
  } catch (const fcd::http::ListenError& e) {
    EXPECT_NE(std::string(e.what()).find("allow_plaintext_tokens"), std::string::npos) << e.what();
  }
}

TEST(MetricsRecording, GeneratorAndModelLoadsAppearInTheText) {
  fcd::Metrics m;
  m.generator_batch(3, {0.001, 0.002, 0.004});
  m.model_loaded(1.5, true);
  m.model_loaded(0.1, false);
  m.add_source("broken", [](std::vector<prometheus::MetricFamily>&) {
    throw std::runtime_error("database gone");
  });
  const auto text = m.render();  // the broken source is left out, the rest still answers
  EXPECT_EQ(sample(text, "facecycle_generator_batch_size_count"), 1) << text;
  EXPECT_EQ(sample(text, "facecycle_generator_batch_size_sum"), 3);
  EXPECT_EQ(sample(text, "facecycle_generator_queue_wait_seconds_count"), 3);
  EXPECT_EQ(sample(text, R"(facecycle_model_loads_total{result="ok"})"), 1);
  EXPECT_EQ(sample(text, R"(facecycle_model_loads_total{result="failed"})"), 1);
  EXPECT_EQ(sample(text, "facecycle_model_load_seconds"), 1.5);
}

TEST(HttpConfig, HttpListenIsReadAndCheckedForType) {
  auto c = fcd::parse_config("http_listen = \"127.0.0.1:9464\"\n", "t.toml");
  EXPECT_EQ(c.http_listen, "127.0.0.1:9464");
  EXPECT_EQ(fcd::Config{}.http_listen, "") << "off unless given";
  try {
    fcd::parse_config("http_listen = 9464\n", "t.toml");
    FAIL() << "an integer was accepted";
  } catch (const fcd::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'http_listen' must be a string"), std::string::npos)
        << e.what();
  }
}

}  // namespace
