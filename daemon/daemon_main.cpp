#include "daemon_main.h"

#include <fcntl.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <filesystem>
#include <future>
#include <iostream>
#include <thread>

#include "facecycle/core/batch_observer.h"
#include "facecycle/core/translator.h"
#include "http/daemon_routes.h"
#include "http/dashboard.h"
#include "http/listener.h"
#include "install_layout.h"
#include "logging.h"
#include "metrics/sources.h"
#include "models/model_registry.h"
#include "models/plugin_host.h"
#include "paths.h"
#include "service/auth.h"
#include "service/grpc_service.h"
#include "service/reflection_v1.h"
#include "service/tls.h"
#include "store/database.h"
#include "store/lease_keeper.h"
#include "store/migrations.h"
#include "store/open_job_store.h"
#include "store/retention.h"
#include "workers/crash_note.h"
#include "workers/worker_pool.h"

namespace fcd {

namespace fs = std::filesystem;

namespace {

// How long SIGTERM waits for in-flight items before leaving them to the next start.
constexpr int kShutdownGraceSeconds = 60;

std::string db_path(const Config& c) { return c.data_dir + "/facecycle.db"; }

// Another daemon answering on the socket? Then we must not steal it.
bool unix_socket_in_use(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  bool used = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return used;
}

std::string unix_path(const std::string& listen) {
  if (listen.rfind("unix://", 0) == 0) return listen.substr(7);
  if (listen.rfind("unix:", 0) == 0) return listen.substr(5);
  return {};
}

// One daemon per data dir: two would both recover and claim the same items. Returns false, having
// said why, when another daemon holds the lock; the lock lasts until the process exits.
bool lock_data_dir(const Config& cfg) {
  std::string lock_path = cfg.data_dir + "/facecycled.lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd >= 0 && ::flock(lock_fd, LOCK_EX | LOCK_NB) == 0) return true;
  std::cerr << "facecycled: another facecycled is already using " << cfg.data_dir << " (lock "
            << lock_path << "); stop it first or use another --data-dir\n";
  return false;
}

// The job store the `database` setting names (SQLite on queue_db when empty); null, having said
// why, when it cannot be opened.
std::unique_ptr<JobStore> open_store(const Config& cfg, Database& queue_db) {
  std::unique_ptr<JobStore> store;
  try {
    store = open_job_store(cfg.database, queue_db, FairShareLimits{cfg.max_running_per_user});
  } catch (const DbError& e) {
    spdlog::error("{}", e.what());
    return nullptr;
  }
  spdlog::info("job store: {}", describe_database(cfg.database, queue_db));
  return store;
}

// The same store again, on a connection of its own (read_db's, or a second PostgreSQL one): the
// dashboard, the queue gauges and retention read through it, so their scans never hold up a
// worker's claim or commit on the queue's connection. Null, having said why, when it cannot
// be opened.
std::unique_ptr<JobStore> open_read_store(const Config& cfg, Database& read_db) {
  try {
    return open_job_store(cfg.database, read_db, FairShareLimits{cfg.max_running_per_user});
  } catch (const DbError& e) {
    spdlog::error("{}", e.what());
    return nullptr;
  }
}

// Users, tokens and the model catalogue, kept where the job store is (docs/SCALE.md).
struct AccountTables {
  std::unique_ptr<TokenStore> tokens;
  std::unique_ptr<ModelCatalog> models;
};

// Null members, having said why, when they cannot be opened. `node`: this daemon's host and data
// dir, under which a shared catalogue remembers its own active model.
AccountTables open_account_tables(const Config& cfg, Database& aux_db, const std::string& node) {
  try {
    return {open_token_store(cfg.database, aux_db), open_model_catalog(cfg.database, aux_db, node)};
  } catch (const DbError& e) {
    spdlog::error("{}", e.what());
    return {};
  }
}

// This daemon's lease holder: its node is the host and data dir, which one daemon at a time
// holds (lock_data_dir), so at start every item an earlier run of the node held is dead.
LeaseHolder lease_holder_for(const Config& cfg) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::error_code ec;
  auto dir = fs::weakly_canonical(fs::absolute(cfg.data_dir), ec);
  return make_lease_holder(std::string(host) + ":" + (ec ? cfg.data_dir : dir.string()),
                           std::chrono::seconds(cfg.lease_seconds));
}

// Puts the queue back in order after the last stop, however it ended, and arms the crash note
// for this run.
JobStore::Recovery recover_queue(const Config& cfg, JobStore& queue) {
  const std::string crash_note_path = cfg.data_dir + "/crash_note";
  auto crashed = take_crash_note(crash_note_path);
  if (crashed)
    spdlog::warn(
        "the daemon died of signal {} while job {} item {} ran in that thread; that item "
        "is counted as its cause",
        crashed->signal, crashed->job_id, crashed->idx);
  install_crash_note(crash_note_path);
  auto rec = queue.recover(crashed);
  if (rec.items_requeued)
    spdlog::warn("{} item(s) were running when the daemon last stopped; re-queued",
                 rec.items_requeued);
  // Jobs killed while finalising (writing their contact sheet or manifest) have half-written
  // files too, though none of their items is left.
  std::vector<int64_t> unfinished = rec.open_jobs;
  unfinished.insert(unfinished.end(), rec.jobs_to_finalize.begin(), rec.jobs_to_finalize.end());
  for (auto id : unfinished) {
    auto j = queue.get_job(id);
    if (j && j->kind == JobKind::kTransform && !j->output_dir.empty()) {
      // With a shared store other daemons may be writing there now: only the dead ones' files.
      int n =
          cfg.database.empty()
              ? remove_stale_temp_files(j->output_dir)
              : remove_stale_temp_files(j->output_dir, std::chrono::seconds(2 * cfg.lease_seconds));
      if (n) spdlog::info("job {}: removed {} half-written temporary file(s)", id, n);
    }
  }
  return rec;
}

AllowedRoots allowed_roots(const Config& cfg) {
  AllowedRoots roots;
  roots.set_data_dir(cfg.data_dir);
  roots.set_jobs_dir(cfg.jobs_dir);
  std::error_code jobs_ec;
  const fs::path jobs = fs::weakly_canonical(fs::absolute(cfg.jobs_dir), jobs_ec);
  for (const auto& r : cfg.allowed_roots) {
    std::error_code ec;
    if (!fs::is_directory(r, ec)) spdlog::warn("allowed root {} is not a folder; ignored", r);
    // The data dir's own rule decides inside it (data_dir_zones.h): a root there would open
    // the database or every user's job folders to every user.
    auto c = fs::weakly_canonical(fs::absolute(r), ec);
    if (!ec && is_under(roots.data_dir(), c)) {
      spdlog::warn(
          "allowed root {} lies inside the data dir; ignored (users reach their own "
          "{}/{}/NAME there without it)",
          r, roots.data_dir(), kUserOutputsFolder);
      continue;
    }
    if (!ec && !jobs_ec && is_under(jobs, c)) {
      spdlog::warn("allowed root {} lies inside jobs_dir {}; ignored", r, cfg.jobs_dir);
      continue;
    }
    roots.add(r);
  }
  return roots;
}

fc::TranslatorOptions translator_options(const Config& cfg) {
  fc::TranslatorOptions topts;
  topts.device = cfg.device;
  topts.precision = cfg.precision;
  topts.threads =
      cfg.threads > 0 ? cfg.threads : static_cast<int>(std::thread::hardware_concurrency());
  topts.max_batch = cfg.max_batch;
  topts.max_wait_ms = cfg.max_wait_ms;
  topts.keep_detail = cfg.keep_detail;
  return topts;
}

// Loads models through the batching translator, with every load and every batch recorded.
TranslatorLoader metered_loader(fc::TranslatorOptions topts, Metrics& metrics) {
  return [topts, &metrics](const std::string& path) {
    const auto start = std::chrono::steady_clock::now();
    auto seconds = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    try {
      auto t = fc::load_translator(path, topts, [&metrics](const fc::BatchObservation& b) {
        metrics.generator_batch(b.size, b.queue_wait_s);
      });
      metrics.model_loaded(seconds(), true);
      return t;
    } catch (...) {
      metrics.model_loaded(seconds(), false);
      throw;
    }
  };
}

// The HTTP listener (--http), serving; null when none is asked for. Throws http::ListenError
// when the address is malformed or taken.
std::unique_ptr<http::Listener> start_http(const Config& cfg, Metrics& metrics, Auth& auth,
                                           ModelRegistry& models, JobStore& reads,
                                           const std::string& node, const AllowedRoots& roots,
                                           const std::atomic<bool>& stopping) {
  if (cfg.http_listen.empty()) return nullptr;
  if (http::check_http_exposure(cfg.http_listen, cfg.allow_plaintext_tokens))
    spdlog::warn(
        "serving HTTP on {} without TLS: the admin token a scraper sends crosses the network "
        "in plain text (allow_plaintext_tokens is set)",
        cfg.http_listen);
  metrics.add_source("queue", queue_source(reads));
  metrics.add_source("model", model_source(models));
  http::Router router;
  http::add_daemon_routes(router, metrics, auth, stopping);
  http::add_dashboard_routes(router, {cfg.jobs_dir, reads, auth, models, roots, node});
  auto listener =
      std::make_unique<http::Listener>(cfg.http_listen, std::move(router), "--http / http_listen");
  listener->start();
  spdlog::info("HTTP on {}: the dashboard at /, /metrics (admin token), /healthz", cfg.http_listen);
  return listener;
}

// Null, having logged why, when the address is taken or malformed.
std::unique_ptr<grpc::Server> start_server(const Config& cfg, FacecycleService& service,
                                           std::shared_ptr<grpc::ServerCredentials> creds) {
  std::string sock = unix_path(cfg.listen);
  if (!sock.empty()) {
    if (unix_socket_in_use(sock)) {
      spdlog::error("another facecycled is already listening on {}", cfg.listen);
      return nullptr;
    }
    fs::remove(sock);  // left over from a crash
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.SetOption(reflection_v1_option());  // v1 beside gRPC's v1alpha
  builder.AddListeningPort(cfg.listen, std::move(creds));
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // a busy port is an error
  auto server = builder.BuildAndStart();
  if (!server) {
    spdlog::error(
        "cannot listen on {}: the address is in use or malformed (use --listen "
        "unix:PATH or HOST:PORT)",
        cfg.listen);
    return nullptr;
  }
  set_serving(*server, true);
  if (!sock.empty()) ::chmod(sock.c_str(), 0600);  // only this account is "local"
  return server;
}

// Signals and the periodic status line on one Asio loop (see grpc_service.cpp); returns at
// SIGINT or SIGTERM with `stopping` set.
void run_until_signal(JobStore& queue, std::atomic<bool>& stopping) {
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: stopping (in-flight items finish first)", sig);
    stopping = true;
    io.stop();
  });
  boost::asio::steady_timer heartbeat(io);
  std::function<void()> tick = [&] {
    heartbeat.expires_after(std::chrono::seconds(60));
    heartbeat.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      spdlog::debug("running items: {} transform, {} train",
                    queue.count_running(JobKind::kTransform), queue.count_running(JobKind::kTrain));
      tick();
    });
  };
  tick();
  io.run();
}

// A plugin that ignores the cancel flag must not keep the daemon alive forever. Leaving with
// items still running is safe: they are re-queued at the next start, as after a kill -9.
void drain_workers(WorkerPool& pool) {
  std::promise<void> drained;
  auto drained_future = drained.get_future();
  std::thread drainer([&] {
    pool.stop();
    drained.set_value();
  });
  if (drained_future.wait_for(std::chrono::seconds(kShutdownGraceSeconds)) !=
      std::future_status::ready) {
    spdlog::warn(
        "items still running {} s after the stop signal; exiting anyway, they are "
        "re-queued at the next start",
        kShutdownGraceSeconds);
    spdlog::shutdown();
    std::_Exit(0);
  }
  drainer.join();
}

// Unsets the lease keeper's job ender and lapse handler, which call into the worker pool, before
// the pool goes (declared after it), early returns included.
struct EnderReset {
  std::unique_ptr<LeaseKeeper>& leases;
  ~EnderReset() {
    if (!leases) return;
    leases->set_job_ender(nullptr);
    leases->set_on_lapse(nullptr);
  }
};

}  // namespace

int run_daemon(Config cfg) {
  make_private_dir(cfg.data_dir);
  if (!lock_data_dir(cfg)) return 1;
  setup_logging({cfg.log_level, cfg.log_file, cfg.log_max_size, cfg.log_files, cfg.log_format});
  spdlog::info("facecycled starting: data dir {}", cfg.data_dir);
  // Before any work: a bad certificate or a plain-text remote listener stops the start here.
  check_transport_security(cfg);
  auto creds = listen_credentials(cfg);

  Database queue_db(db_path(cfg));
  int applied = apply_migrations(queue_db);
  if (applied) spdlog::info("applied {} schema migration(s)", applied);
  Database aux_db(db_path(cfg));   // auth and models: their own connection and transactions
  Database read_db(db_path(cfg));  // the dashboard, /metrics and retention (open_read_store)
  auto store = open_store(cfg, queue_db);
  if (!store) return 1;
  auto reads = open_read_store(cfg, read_db);
  if (!reads) return 1;
  JobStore& queue = *store;
  queue.set_lease_holder(lease_holder_for(cfg));
  spdlog::info("lease holder {} ({} s leases)", queue.lease_holder().id, cfg.lease_seconds);
  auto tables = open_account_tables(cfg, aux_db, queue.lease_holder().node);
  if (!tables.tokens || !tables.models) return 1;
  Auth auth(std::move(tables.tokens));
  const auto rec = recover_queue(cfg, queue);
  // Renews this daemon's leases and re-queues the items of daemons that died; it outlives the
  // workers, whose items it keeps leased while they finish.
  auto leases = std::make_unique<LeaseKeeper>(queue);
  const AllowedRoots roots = allowed_roots(cfg);

  if (cfg.plugin_dirs.empty()) cfg.plugin_dirs = default_plugin_dirs();
  PluginHost plugins(cfg.plugin_tables);
  plugins.load_dirs(cfg.plugin_dirs);
  spdlog::info("{} plugin(s) loaded, {} refused", plugins.plugins().size(),
               plugins.refused().size());

  const std::string shipped = shipped_models_dir();
  std::vector<std::string> model_dirs{cfg.models_dir};
  if (!shipped.empty()) model_dirs.push_back(shipped);
  make_private_dir(cfg.models_dir);
  make_private_dir(cfg.jobs_dir);
  Metrics metrics;  // before the first model load, which it counts
  ModelRegistry models(std::move(tables.models), model_dirs,
                       metered_loader(translator_options(cfg), metrics));
  models.activate_initial(cfg.active_model, shipped);

  WorkerPool pool(cfg, queue, plugins, models, roots, &metrics);
  for (auto id : rec.jobs_to_finalize) pool.end_job(id);
  // From now on the sweep ends jobs whose finisher (another daemon) died, as the pool would.
  leases->set_job_ender([&pool](int64_t id) { pool.end_job(id); });
  leases->set_on_lapse([&pool](const std::string& why) { pool.stop_training(why); });
  const EnderReset reset_ender{leases};
  std::atomic<bool> stopping{false};
  FacecycleService service(ServiceDeps{cfg, queue, auth, plugins, models, roots, &pool, &stopping});
  std::unique_ptr<http::Listener> http_listener;
  try {
    http_listener =
        start_http(cfg, metrics, auth, models, *reads, queue.lease_holder().node, roots, stopping);
  } catch (const http::ListenError& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  auto server = start_server(cfg, service, creds);
  if (!server) return 1;
  pool.start();
  spdlog::info("listening on {} with {} worker(s)", cfg.listen, cfg.workers);
  auto retention = std::make_unique<RetentionTask>(*reads, cfg.jobs_dir, cfg.retention_days);

  run_until_signal(queue, stopping);
  set_serving(*server, false);
  drain_workers(pool);
  leases.reset();
  retention.reset();  // before spdlog::shutdown: a pass in progress still logs
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (std::string sock = unix_path(cfg.listen); !sock.empty()) fs::remove(sock);
  spdlog::info("facecycled stopped");
  spdlog::shutdown();
  return 0;
}

}  // namespace fcd
