#include "store/postgres_model_catalog.h"

#include <spdlog/spdlog.h>

#include <mutex>
#include <pqxx/pqxx>

#include "store/postgres_listener.h"
#include "store/postgres_rows.h"

namespace fcd {

namespace {

class PostgresModelCatalog : public ModelCatalog {
 public:
  PostgresModelCatalog(const std::string& url, std::string node)
      : conn_(pg::connect_migrated(url)), url_(url), node_(std::move(node)) {}

  void put_found(const std::string& name, const std::string& path) override {
    exec("register model",
         "INSERT INTO models (name, path, registered_ms) VALUES ($1, $2, $3) "
         "ON CONFLICT (name) DO UPDATE SET path = excluded.path",
         name, path, now_ms());
  }

  void put_owned(const std::string& name, const std::string& path,
                 const std::string& owner) override {
    exec("install model",
         "INSERT INTO models (name, path, registered_ms, owner) VALUES ($1, $2, $3, $4) "
         "ON CONFLICT (name) DO UPDATE SET path = excluded.path, owner = excluded.owner",
         name, path, now_ms(), owner);
  }

  std::optional<std::string> owner(const std::string& name) override {
    std::lock_guard<std::mutex> lk(mu_);
    return pg::in_tx(*conn_, "model owner", [&](pqxx::work& tx) -> std::optional<std::string> {
      auto r = tx.exec_params("SELECT owner FROM models WHERE name = $1", name);
      if (r.empty()) return std::nullopt;
      return r[0][0].as<std::string>();
    });
  }

  std::vector<ModelRow> list() override {
    std::lock_guard<std::mutex> lk(mu_);
    return pg::in_tx(*conn_, "list models", [&](pqxx::work& tx) {
      auto r = tx.exec_params(
          "SELECT m.name, m.path, m.registered_ms, a.node IS NOT NULL, COALESCE(a.chosen, false) "
          "FROM models m "
          "LEFT JOIN model_active a ON a.name = m.name AND a.node = $1 ORDER BY m.name",
          node_);
      std::vector<ModelRow> out;
      for (const auto& row : r)
        out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int64_t>(),
                       row[3].as<bool>(), row[4].as<bool>()});
      return out;
    });
  }

  void set_active(const std::string& name, bool chosen) override {
    // Only this daemon's row: the others keep theirs (each host holds its own copy).
    exec("remember active model",
         "INSERT INTO model_active (node, name, activated_ms, chosen) VALUES ($1, $2, $3, $4) "
         "ON CONFLICT (node) DO UPDATE SET name = excluded.name, "
         "activated_ms = excluded.activated_ms, chosen = excluded.chosen",
         node_, name, now_ms(), chosen);
  }

  bool shared() const override { return true; }

  int64_t set_cluster_model(const std::string& name) override {
    std::lock_guard<std::mutex> lk(mu_);
    // A replay bumps the generation once more and tells everyone again: each daemon then finds
    // the same model resident and answers again, which changes nothing.
    return pg::in_tx(
        *conn_, "activate model everywhere", pg::Replay::kHarmless, [&](pqxx::work& tx) {
          const auto gen = tx.exec_params1(
                                 "INSERT INTO model_cluster (name, generation, "
                                 "activated_ms) VALUES ($1, 1, $2) ON CONFLICT (one) "
                                 "DO UPDATE SET name = excluded.name, generation = "
                                 "model_cluster.generation + 1, activated_ms = "
                                 "excluded.activated_ms RETURNING generation",
                                 name, now_ms())[0]
                               .as<int64_t>();
          // Delivered at commit, to every daemon's watch_cluster listener.
          tx.exec_params("SELECT pg_notify($1, $2)", kModelChannel, std::to_string(gen));
          tx.commit();
          return gen;
        });
  }

  std::optional<ClusterModel> cluster_model() override {
    std::lock_guard<std::mutex> lk(mu_);
    return pg::in_tx(*conn_, "cluster model", [&](pqxx::work& tx) -> std::optional<ClusterModel> {
      auto r = tx.exec("SELECT name, generation FROM model_cluster");
      if (r.empty()) return std::nullopt;
      return ClusterModel{r[0][0].as<std::string>(), r[0][1].as<int64_t>()};
    });
  }

  void record_answer(int64_t generation, const std::string& error) override {
    // GREATEST: a late answer to an older activation must not hide the answer to a newer one.
    exec("record the model answer",
         "INSERT INTO model_nodes (node, generation, error, updated_ms) VALUES ($1, $2, $3, $4) "
         "ON CONFLICT (node) DO UPDATE SET generation = GREATEST(model_nodes.generation, "
         "excluded.generation), error = CASE WHEN excluded.generation >= model_nodes.generation "
         "THEN excluded.error ELSE model_nodes.error END, updated_ms = excluded.updated_ms",
         node_, generation, error, now_ms());
  }

  std::vector<NodeModel> live_nodes() override {
    std::lock_guard<std::mutex> lk(mu_);
    return pg::in_tx(*conn_, "list daemons' models", [&](pqxx::work& tx) {
      // pid is visible in pg_stat_activity to every role, unlike the sessions' queries.
      auto r = tx.exec_params(
          "SELECT n.node, COALESCE(a.name, ''), n.generation, n.error, n.updated_ms, n.node = $1 "
          "FROM model_nodes n LEFT JOIN model_active a ON a.node = n.node WHERE n.listener_pid "
          "IN (SELECT pid FROM pg_stat_activity) ORDER BY n.node",
          node_);
      std::vector<NodeModel> out;
      for (const auto& row : r)
        out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int64_t>(),
                       row[3].as<std::string>(), row[4].as<int64_t>(), row[5].as<bool>()});
      return out;
    });
  }

  std::unique_ptr<ClusterWatch> watch_cluster(std::function<void()> on_change) override;

  void set_listener_pid(int64_t pid) {
    exec("record the model listener",
         "INSERT INTO model_nodes (node, listener_pid) VALUES ($1, $2) ON CONFLICT (node) DO "
         "UPDATE SET listener_pid = excluded.listener_pid",
         node_, pid);
  }

 private:
  template <typename... Args>
  void exec(const char* what, const std::string& sql, const Args&... args) {
    std::lock_guard<std::mutex> lk(mu_);
    // Each is an upsert: a replay writes the same row
    pg::in_tx(*conn_, what, pg::Replay::kHarmless, [&](pqxx::work& tx) {
      tx.exec_params(sql, args...);
      tx.commit();
    });
  }

  std::unique_ptr<pg::Link> conn_;  // reconnects after a restart or a drop
  const std::string url_, node_;
  std::mutex mu_;  // one transaction at a time on the connection
};

// A listener on kModelChannel with its own connection, whose backend pid goes into this node's
// row: while that backend lives, other daemons count this one as alive and wait for its answers.
class PostgresClusterWatch : public ClusterWatch {
 public:
  PostgresClusterWatch(PostgresModelCatalog& catalog, const std::string& url,
                       std::function<void()> on_change)
      : listener_(
            url, kModelChannel, "model", [on_change](const std::string&) { on_change(); },
            [&catalog, on_change](const ListenerQuery& query, bool again) {
              catalog.set_listener_pid(query("SELECT pg_backend_pid()"));
              // A NOTIFY sent while the connection was down is lost: read the model again.
              if (again) on_change();
            }) {}

 private:
  PostgresListener listener_;
};

std::unique_ptr<ClusterWatch> PostgresModelCatalog::watch_cluster(std::function<void()> on_change) {
  return std::make_unique<PostgresClusterWatch>(*this, url_, std::move(on_change));
}

}  // namespace

std::unique_ptr<ModelCatalog> make_postgres_model_catalog(const std::string& url,
                                                          const std::string& node) {
  return std::make_unique<PostgresModelCatalog>(url, node);
}

}  // namespace fcd
