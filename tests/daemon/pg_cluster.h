// A throwaway PostgreSQL cluster for the job-store tests: initdb and pg_ctl from
// /usr/lib/postgresql/<version>/bin (or $FC_PG_BIN) in a fresh /tmp folder, listening only on a
// unix socket in that folder, stopped and removed when the test process exits. initdb refuses
// to run as root, so as root the cluster runs as the `postgres` user.
#pragma once

#include <memory>
#include <string>

namespace fcd_test {

class PgCluster {
 public:
  // The process's cluster, started at the first call; null, with `why` set, when PostgreSQL is
  // not installed or will not start (the caller skips).
  static PgCluster* shared(std::string* why);
  // A cluster of the caller's own with fsync on, as a real server runs (the benchmarks); null,
  // with `why` set, as for shared().
  static std::unique_ptr<PgCluster> start_durable(std::string* why);
  ~PgCluster();

  // pg_ctl restart (fast: open connections are cut), returning once the server accepts
  // connections again; false, with `why` set, when it does not come back.
  bool restart(std::string* why);

  // A new, empty database on the cluster; its URL.
  std::string create_database();
  void drop_database(const std::string& url);

 private:
  PgCluster() = default;
  bool start(std::string* why, bool durable = false);
  std::string url(const std::string& db) const;
  std::string admin_url() const { return url("postgres"); }

  std::string dir_, bin_;
  std::string run_as_, server_opts_;  // as start() ran pg_ctl, for restart()
  bool as_postgres_ = false;
  bool running_ = false;
  int next_db_ = 0;
};

}  // namespace fcd_test
