// Queue benchmark: starts the real facecycled (test-flip pipeline, no model) on a temporary
// data dir and measures, over gRPC,
//   1. SubmitTransform latency (one image per job): p50, p99, max over --submits calls;
//   2. item throughput: one job of --items images, submit to terminal state, items/s.
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
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "facecycle/v1/facecycle.grpc.pb.h"

namespace fs = std::filesystem;
namespace v1 = facecycle::v1;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  int submits = 200;
  int items = 300;
  int workers = 2;
  int size = 64;
  std::string daemon = FC_BINARY_DIR "/bin/facecycled";
  std::string plugins = FC_BINARY_DIR "/test-plugins";
};

pid_t start_daemon(const Options& o, const std::string& root) {
  std::ofstream(root + "/bench.toml")
      << "data_dir = \"" << root << "/d\"\nworkers = " << o.workers
      << "\nthreads = 1\ndevice = \"cpu\"\nlog_level = \"warn\"\nplugin_dirs = [\"" << o.plugins
      << "\"]\nallowed_roots = [\"" << root << "\"]\n[pipelines]\ntransform = [\"test-flip\"]\n";
  pid_t pid = fork();
  if (pid == 0) {
    int log = open((root + "/facecycled.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log, 1);
    dup2(log, 2);
    execl(o.daemon.c_str(), o.daemon.c_str(), "--config", (root + "/bench.toml").c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
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
    if (job.state() >= v1::JOB_STATE_SUCCEEDED) return job;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"facecycled queue benchmark (test-flip pipeline)"};
  app.add_option("--submits", o.submits, "single-image jobs to submit for the latency figures");
  app.add_option("--items", o.items, "images in the throughput job");
  app.add_option("--workers", o.workers, "daemon workers");
  app.add_option("--size", o.size, "image side in pixels");
  app.add_option("--daemon", o.daemon, "facecycled binary");
  app.add_option("--plugins", o.plugins, "folder holding test-flip.so");
  CLI11_PARSE(app, argc, argv);

  char tmpl[] = "/tmp/fcbench-XXXXXX";
  std::string root = mkdtemp(tmpl);
  fs::create_directories(root + "/in");
  cv::Mat img(o.size, o.size, CV_8UC3);
  cv::randu(img, 0, 255);
  for (int i = 0; i < std::max(o.items, 1); ++i)
    cv::imwrite(root + "/in/img_" + std::to_string(i) + ".png", img);

  pid_t pid = start_daemon(o, root);
  auto channel = grpc::CreateChannel("unix:" + root + "/d/facecycled.sock",
                                     grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(60))) {
    std::fprintf(stderr, "facecycled did not start; see %s/facecycled.log\n", root.c_str());
    kill(pid, SIGKILL);
    return 1;
  }
  auto stub = v1::Facecycle::NewStub(channel);
  int rc = 0;
  try {
    // 1. Submit latency.
    std::vector<double> ms;
    int64_t last_id = 0;
    auto t0 = Clock::now();
    for (int i = 0; i < o.submits; ++i) {
      v1::SubmitTransformRequest req;
      req.add_inputs(root + "/in/img_" + std::to_string(i % o.items) + ".png");
      req.set_output_dir(root + "/out/s" + std::to_string(i));
      req.set_task("age");
      v1::SubmitResponse resp;
      grpc::ClientContext ctx;
      auto s0 = Clock::now();
      auto st = stub->SubmitTransform(&ctx, req, &resp);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s0).count());
      if (!st.ok()) throw std::runtime_error("SubmitTransform: " + st.error_message());
      last_id = resp.job().id();
    }
    wait_terminal(*stub, last_id);
    double drain_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("| measure | value |\n|---|---|\n");
    std::printf(
        "| submit latency over %d single-image jobs, p50 / p99 / max | %.2f / %.2f / %.2f ms |\n",
        o.submits, percentile(ms, 0.5), percentile(ms, 0.99), percentile(ms, 1.0));
    std::printf("| those %d jobs submitted and finished | %.2f s (%.1f jobs/s) |\n", o.submits,
                drain_s, o.submits / drain_s);

    // 2. Item throughput in one job.
    v1::SubmitTransformRequest req;
    req.add_inputs(root + "/in");
    req.set_output_dir(root + "/out/big");
    req.set_task("age");
    v1::SubmitResponse resp;
    grpc::ClientContext ctx;
    auto t1 = Clock::now();
    auto st = stub->SubmitTransform(&ctx, req, &resp);
    if (!st.ok()) throw std::runtime_error("SubmitTransform: " + st.error_message());
    v1::Job job = wait_terminal(*stub, resp.job().id());
    double s = std::chrono::duration<double>(Clock::now() - t1).count();
    std::printf(
        "| one job of %d items (%dx%d PNG, %d workers, flip plugin) | %.2f s, %.1f items/s, "
        "%.1f item transitions/s (queued->running->done), state %s |\n",
        job.items_total(), o.size, o.size, o.workers, s, job.items_total() / s,
        2.0 * job.items_total() / s, v1::JobState_Name(job.state()).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_queue: %s (log: %s/facecycled.log)\n", e.what(), root.c_str());
    rc = 1;
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  if (rc == 0) fs::remove_all(root);
  return rc;
}
