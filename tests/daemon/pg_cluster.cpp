#include "pg_cluster.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>
#ifdef FC_HAVE_POSTGRES
#include <pqxx/pqxx>
#endif

namespace fcd_test {

namespace fs = std::filesystem;

namespace {

// The newest installed server's bin folder (Debian: /usr/lib/postgresql/15/bin); $FC_PG_BIN wins.
std::string find_bin() {
  if (const char* env = std::getenv("FC_PG_BIN")) return env;
  std::string best;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(e.path() / "bin" / "initdb") && e.path().string() > best)
      best = e.path().string();
  return best.empty() ? "" : best + "/bin";
}

std::string quote(const std::string& s) { return "'" + s + "'"; }  // our paths have no quotes

std::string tail_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 1500 ? s.substr(s.size() - 1500) : s;
}

}  // namespace

PgCluster* PgCluster::shared(std::string* why) {
  static std::unique_ptr<PgCluster> cluster;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] {
    std::unique_ptr<PgCluster> c(new PgCluster());
    if (c->start(&failure)) cluster = std::move(c);
  });
  if (!cluster && why) *why = failure;
  return cluster.get();
}

std::unique_ptr<PgCluster> PgCluster::start_durable(std::string* why) {
  std::unique_ptr<PgCluster> c(new PgCluster());
  if (!c->start(why, /*durable=*/true)) return nullptr;
  return c;
}

bool PgCluster::start(std::string* why, bool durable) {
#ifndef FC_HAVE_POSTGRES
  (void)durable;
  *why = "this build has no PostgreSQL job store (libpqxx-dev was not found by CMake)";
  return false;
#else
  bin_ = find_bin();
  if (bin_.empty() || !fs::exists(bin_ + "/initdb")) {
    *why =
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; apt-get install "
        "postgresql-15, or set FC_PG_BIN)";
    return false;
  }
  std::string tmpl = (fs::temp_directory_path() / "fc-pg-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    *why = "cannot create a folder for the cluster";
    return false;
  }
  dir_ = tmpl;
  std::string run;
  if (::geteuid() == 0) {  // initdb refuses root
    struct passwd* pw = ::getpwnam("postgres");
    if (!pw) {
      *why = "running as root and there is no `postgres` user for initdb";
      return false;
    }
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      *why = "cannot hand " + dir_ + " to the postgres user";
      return false;
    }
    as_postgres_ = true;
    run = "runuser -u postgres -- ";
  }
  // fsync off: a test cluster that dies is thrown away anyway.
  const std::string init = run + bin_ + "/initdb -D " + quote(dir_ + "/data") +
                           " -U postgres -A trust -E UTF8 --locale=C --no-sync > " +
                           quote(dir_ + "/initdb.log") + " 2>&1";
  if (std::system(init.c_str()) != 0) {
    *why = "initdb failed: " + tail_of(dir_ + "/initdb.log");
    return false;
  }
  run_as_ = run;
  server_opts_ = "-k " + dir_ + " -c listen_addresses=''" + (durable ? "" : " -c fsync=off");
  const std::string& opts = server_opts_;
  const std::string start = run + bin_ + "/pg_ctl -D " + quote(dir_ + "/data") + " -l " +
                            quote(dir_ + "/server.log") + " -w -o \"" + opts + "\" start > " +
                            quote(dir_ + "/pg_ctl.log") + " 2>&1";
  if (std::system(start.c_str()) != 0) {
    *why = "pg_ctl start failed: " + tail_of(dir_ + "/server.log");
    return false;
  }
  running_ = true;
  return true;
#endif
}

PgCluster::~PgCluster() {
  if (running_) {
    const std::string run = as_postgres_ ? "runuser -u postgres -- " : "";
    const std::string stop = run + bin_ + "/pg_ctl -D " + quote(dir_ + "/data") +
                             " -m immediate -w stop > /dev/null 2>&1";
    [[maybe_unused]] int rc = std::system(stop.c_str());
  }
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

bool PgCluster::restart(std::string* why) {
  const std::string cmd = run_as_ + bin_ + "/pg_ctl -D " + quote(dir_ + "/data") + " -l " +
                          quote(dir_ + "/server.log") + " -w -m fast -o \"" + server_opts_ +
                          "\" restart > " + quote(dir_ + "/pg_ctl.log") + " 2>&1";
  if (std::system(cmd.c_str()) == 0) return true;
  *why = "pg_ctl restart failed: " + tail_of(dir_ + "/pg_ctl.log") + tail_of(dir_ + "/server.log");
  return false;
}

std::string PgCluster::url(const std::string& db) const {
  return "postgresql://postgres@/" + db + "?host=" + dir_;
}

std::string PgCluster::create_database() {
  const std::string name = "fc_test_" + std::to_string(++next_db_);
#ifdef FC_HAVE_POSTGRES
  pqxx::connection c(admin_url());
  pqxx::nontransaction n(c);
  n.exec0("CREATE DATABASE " + name);
#endif
  return url(name);
}

void PgCluster::drop_database(const std::string& db_url) {
#ifdef FC_HAVE_POSTGRES
  const size_t from = db_url.find("@/") + 2;  // as url() spells it
  const std::string name = db_url.substr(from, db_url.find('?') - from);
  pqxx::connection c(admin_url());
  pqxx::nontransaction n(c);
  n.exec0("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
#else
  (void)db_url;
#endif
}

}  // namespace fcd_test
