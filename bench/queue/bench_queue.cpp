// Queue benchmark: starts real facecycled processes (test-flip pipeline, no model) and measures,
// over gRPC, for each job store and each number of daemons:
//   1. SubmitTransform latency (one image per job, round robin over the daemons): p50, p99;
//   2. item throughput: --items images, submit to terminal state, item transitions/s
//      (queued->running->done is two transitions an item).
// SQLite: each daemon has its own data dir and queue (SQLite is one machine's store), so N daemons
// get one job of items/N each. PostgreSQL: the daemons share one database (a fresh one per row)
// and one job of all the items, submitted to the first. Without --pg-url a throwaway cluster is
// started (tests/daemon/pg_cluster.h), with fsync on, as a real server would run.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <thread>

#include "facecycle/v1/facecycle.grpc.pb.h"
#include "pg_cluster.h"
#include "store_rows.h"

namespace fs = std::filesystem;
namespace v1 = facecycle::v1;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  int submits = 200;
  int items = 1000;
  int store_items = 10000;
  int workers = 2;
  int claim_batch = 0;
  int size = 64;
  std::string stores = "sqlite,postgresql";
  std::string daemons = "1,2,4";
  std::string pg_url;
  std::string mode = "daemon,store";
  std::string store_batches = "1,16";
  int claim_nice = 0;
  std::string work_dir = "/tmp";
  std::string daemon = FC_BINARY_DIR "/bin/facecycled";
  std::string plugins = FC_BINARY_DIR "/test-plugins";
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

// N daemons, each on its own data dir under root/dK, on `database` (empty: their own SQLite).
struct Fleet {
  std::vector<pid_t> pids;
  std::vector<std::string> dirs;
  std::vector<std::unique_ptr<v1::Facecycle::Stub>> stubs;
  ~Fleet() {
    for (pid_t p : pids) kill(p, SIGTERM);
    for (pid_t p : pids) waitpid(p, nullptr, 0);
  }
};

pid_t start_daemon(const Options& o, const std::string& root, const std::string& dir,
                   const std::string& database) {
  fs::create_directories(dir);
  std::ofstream(dir + "/bench.toml")
      << "data_dir = \"" << dir << "/d\"\nworkers = " << o.workers
      << "\nclaim_batch = " << o.claim_batch << "\ndatabase = \"" << database
      << "\"\nthreads = 1\ndevice = \"cpu\"\nlog_level = \"warn\"\nplugin_dirs = [\"" << o.plugins
      << "\"]\nallowed_roots = [\"" << root << "\"]\n[pipelines]\ntransform = [\"test-flip\"]\n";
  pid_t pid = fork();
  if (pid == 0) {
    int log = open((dir + "/facecycled.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log, 1);
    dup2(log, 2);
    execl(o.daemon.c_str(), o.daemon.c_str(), "--config", (dir + "/bench.toml").c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

void start_fleet(Fleet& f, const Options& o, const std::string& root, const std::string& tag, int n,
                 const std::string& database) {
  for (int k = 0; k < n; ++k) {
    const std::string dir = root + "/" + tag + "-d" + std::to_string(k);
    f.pids.push_back(start_daemon(o, root, dir, database));
    f.dirs.push_back(dir);
    auto channel = grpc::CreateChannel("unix:" + dir + "/d/facecycled.sock",
                                       grpc::InsecureChannelCredentials());
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(60)))
      throw std::runtime_error("facecycled did not start; see " + dir + "/facecycled.log");
    f.stubs.push_back(v1::Facecycle::NewStub(channel));
  }
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

v1::Job wait_terminal(v1::Facecycle::Stub& stub, int64_t id) {
  for (;;) {
    grpc::ClientContext ctx;
    v1::GetJobRequest req;
    req.set_job_id(id);
    v1::Job job;
    auto s = stub.GetJob(&ctx, req, &job);
    if (!s.ok()) throw std::runtime_error("GetJob: " + s.error_message());
    if (job.state() >= v1::JOB_STATE_SUCCEEDED) {
      if (job.state() != v1::JOB_STATE_SUCCEEDED)
        throw std::runtime_error("job " + std::to_string(id) + " ended " +
                                 v1::JobState_Name(job.state()));
      return job;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int64_t submit(v1::Facecycle::Stub& stub, const std::vector<std::string>& inputs,
               const std::string& out) {
  v1::SubmitTransformRequest req;
  for (const auto& in : inputs) req.add_inputs(in);
  req.set_output_dir(out);
  req.set_task("age");
  v1::SubmitResponse resp;
  grpc::ClientContext ctx;
  auto st = stub.SubmitTransform(&ctx, req, &resp);
  if (!st.ok()) throw std::runtime_error("SubmitTransform: " + st.error_message());
  return resp.job().id();
}

struct Row {
  double p50 = 0, p99 = 0, transitions_s = 0, items_s = 0;
};

// Single-image submits round robin over the daemons (timed one by one), then the throughput job.
Row measure(Fleet& f, const Options& o, const std::string& root, const std::string& tag,
            bool shared) {
  Row row;
  std::vector<double> ms;
  std::vector<std::pair<size_t, int64_t>> ids;
  for (int i = 0; i < o.submits; ++i) {
    const size_t d = static_cast<size_t>(i) % f.stubs.size();
    auto s0 = Clock::now();
    int64_t id = submit(*f.stubs[d], {root + "/in/img_" + std::to_string(i % o.items) + ".png"},
                        root + "/out/" + tag + "/s" + std::to_string(i));
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s0).count());
    ids.emplace_back(d, id);
  }
  for (auto [d, id] : ids) wait_terminal(*f.stubs[d], id);
  row.p50 = percentile(ms, 0.5);
  row.p99 = percentile(ms, 0.99);

  // Shared: one job on the first daemon, all of them run it. Own queues: a share each.
  const size_t jobs = shared ? 1 : f.stubs.size();
  std::vector<std::vector<std::string>> inputs(jobs);
  for (int i = 0; i < o.items; ++i)
    inputs[static_cast<size_t>(i) % jobs].push_back(root + "/in/img_" + std::to_string(i) + ".png");
  auto t1 = Clock::now();
  std::vector<int64_t> big;
  for (size_t j = 0; j < jobs; ++j)
    big.push_back(
        submit(*f.stubs[j], inputs[j], root + "/out/" + tag + "/big" + std::to_string(j)));
  for (size_t j = 0; j < jobs; ++j) wait_terminal(*f.stubs[j], big[j]);
  double s = std::chrono::duration<double>(Clock::now() - t1).count();
  row.items_s = o.items / s;
  row.transitions_s = 2.0 * o.items / s;
  return row;
}

// A fresh database for one row: on --pg-url, else on a throwaway cluster started at first use.
std::string database_for(bool pg, const Options& o, std::unique_ptr<fcd_test::PgCluster>& cluster) {
  if (!pg) return "";
  if (!o.pg_url.empty()) return o.pg_url;
  std::string why;
  if (!cluster) cluster = fcd_test::PgCluster::start_durable(&why);
  if (!cluster) throw std::runtime_error("no PostgreSQL: " + why);
  return cluster->create_database();
}

bool is_pg(const std::string& store) {
  if (store != "postgresql" && store != "sqlite")
    throw std::runtime_error("unknown store " + store);
  return store == "postgresql";
}

const char* store_name(bool pg) { return pg ? "PostgreSQL 15, shared" : "SQLite, one per daemon"; }

void daemon_table(const Options& o, const std::string& root,
                  std::unique_ptr<fcd_test::PgCluster>& cluster) {
  std::printf(
      "Through facecycled (gRPC, PNG read, flip, PNG write):\n\n"
      "| store | daemons | submit p50 / p99 | item transitions/s | items/s |\n"
      "|---|---|---|---|---|\n");
  for (const auto& store : split(o.stores)) {
    const bool pg = is_pg(store);
    for (const auto& count : split(o.daemons)) {
      const int n = std::stoi(count);
      const std::string tag = store + std::to_string(n);
      Fleet fleet;
      start_fleet(fleet, o, root, tag, n, database_for(pg, o, cluster));
      Row r = measure(fleet, o, root, tag, pg);
      std::printf("| %s | %d | %.2f / %.2f ms | %.0f | %.0f |\n", store_name(pg), n, r.p50, r.p99,
                  r.transitions_s, r.items_s);
      std::fflush(stdout);
    }
  }
  std::printf(
      "\n%d single-image submits per row, one after another; %d %dx%d PNG items; %d worker(s) a "
      "daemon; claim_batch %d (0: as many as workers).\n\n",
      o.submits, o.items, o.size, o.size, o.workers, o.claim_batch);
}

void store_table(const Options& o, const std::string& root,
                 std::unique_ptr<fcd_test::PgCluster>& cluster) {
  std::printf(
      "The store alone (one process a daemon, claim_batch then finish_items, no images):\n\n"
      "| store | daemons | batch | submit p50 / p99 | item transitions/s |\n"
      "|---|---|---|---|---|\n");
  for (const auto& store : split(o.stores)) {
    const bool pg = is_pg(store);
    for (const auto& count : split(o.daemons))
      for (const auto& batch : split(o.store_batches)) {
        const int n = std::stoi(count);
        const std::string dir = root + "/store-" + store + count + "-" + batch;
        fs::create_directories(dir);
        fcb::StoreRow r = fcb::measure_store(dir, database_for(pg, o, cluster), n, o.store_items,
                                             o.submits, std::stoi(batch), o.claim_nice);
        std::printf("| %s | %d | %s | %.2f / %.2f ms | %.0f |\n", store_name(pg), n, batch.c_str(),
                    r.p50_ms, r.p99_ms, r.transitions_s);
        std::fflush(stdout);
      }
  }
  std::printf(
      "\n%d items a row plus %d single-item jobs submitted 2 ms apart while they drain (their "
      "submit times are the p50/p99).\n",
      o.store_items, o.submits);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"facecycled queue benchmark (test-flip pipeline), SQLite and PostgreSQL"};
  app.add_option("--submits", o.submits, "single-image jobs to submit for the latency figures");
  app.add_option("--items", o.items, "images in the throughput run through the daemons");
  app.add_option("--store-items", o.store_items, "items in each store row");
  app.add_option("--workers", o.workers, "workers per daemon");
  app.add_option("--claim-batch", o.claim_batch, "items per claim (0: as many as workers)");
  app.add_option("--size", o.size, "image side in pixels");
  app.add_option("--stores", o.stores, "comma-separated: sqlite, postgresql");
  app.add_option("--daemons", o.daemons, "comma-separated daemon counts");
  app.add_option("--pg-url", o.pg_url, "a PostgreSQL server to use (default: a throwaway one)");
  app.add_option("--mode", o.mode, "daemon (through facecycled), store (the store alone), or both");
  app.add_option("--store-batches", o.store_batches, "claim/end batch sizes for the store rows");
  app.add_option("--claim-nice", o.claim_nice,
                 "store rows: nice value of each process's claim loop (its submits stay at 0)");
  app.add_option("--work-dir", o.work_dir,
                 "where the bench's files (SQLite files, images) go: the disk being measured (a "
                 "throwaway PostgreSQL keeps its own temp folder)");
  app.add_option("--daemon", o.daemon, "facecycled binary");
  app.add_option("--plugins", o.plugins, "folder holding test-flip.so");
  CLI11_PARSE(app, argc, argv);

  std::string tmpl = o.work_dir + "/fcbench-XXXXXX";
  if (!mkdtemp(tmpl.data())) {
    std::fprintf(stderr, "bench_queue: cannot make a folder in %s\n", o.work_dir.c_str());
    return 1;
  }
  const std::string root = tmpl;
  fs::create_directories(root + "/in");
  cv::Mat img(o.size, o.size, CV_8UC3);
  cv::randu(img, 0, 255);
  for (int i = 0; i < std::max(o.items, 1); ++i)
    cv::imwrite(root + "/in/img_" + std::to_string(i) + ".png", img);

  std::unique_ptr<fcd_test::PgCluster> cluster;
  int rc = 0;
  try {
    if (o.mode.find("daemon") != std::string::npos) daemon_table(o, root, cluster);
    if (o.mode.find("store") != std::string::npos) store_table(o, root, cluster);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_queue: %s (logs under %s)\n", e.what(), root.c_str());
    rc = 1;
  }
  if (rc == 0) fs::remove_all(root);
  return rc;
}
