#include "store/postgres_model_catalog.h"

#include <mutex>
#include <pqxx/pqxx>

#include "store/postgres_rows.h"

namespace fcd {

namespace {

class PostgresModelCatalog : public ModelCatalog {
 public:
  PostgresModelCatalog(const std::string& url, std::string node)
      : conn_(pg::connect_migrated(url)), node_(std::move(node)) {}

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
          "SELECT m.name, m.path, m.registered_ms, a.node IS NOT NULL FROM models m "
          "LEFT JOIN model_active a ON a.name = m.name AND a.node = $1 ORDER BY m.name",
          node_);
      std::vector<ModelRow> out;
      for (const auto& row : r)
        out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int64_t>(),
                       row[3].as<bool>()});
      return out;
    });
  }

  void set_active(const std::string& name) override {
    // Only this daemon's row: the others keep theirs (each host holds its own copy).
    exec("remember active model",
         "INSERT INTO model_active (node, name, activated_ms) VALUES ($1, $2, $3) "
         "ON CONFLICT (node) DO UPDATE SET name = excluded.name, "
         "activated_ms = excluded.activated_ms",
         node_, name, now_ms());
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
  const std::string node_;
  std::mutex mu_;  // one transaction at a time on the connection
};

}  // namespace

std::unique_ptr<ModelCatalog> make_postgres_model_catalog(const std::string& url,
                                                          const std::string& node) {
  return std::make_unique<PostgresModelCatalog>(url, node);
}

}  // namespace fcd
