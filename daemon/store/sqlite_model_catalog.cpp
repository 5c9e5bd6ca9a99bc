// The model registry's rows in the data dir's SQLite file (schema/0001_init.sql, 0002).
#include "store/model_catalog.h"

namespace fcd {

namespace {

class SqliteModelCatalog : public ModelCatalog {
 public:
  explicit SqliteModelCatalog(Database& db) : db_(db) {}

  void put_found(const std::string& name, const std::string& path) override {
    db_.prepare(
           "INSERT INTO models (name, path, registered_ms) VALUES (?, ?, ?) "
           "ON CONFLICT(name) DO UPDATE SET path = excluded.path")
        .bind(1, name)
        .bind(2, path)
        .bind(3, now_ms())
        .run();
  }

  void put_owned(const std::string& name, const std::string& path,
                 const std::string& owner) override {
    db_.prepare(
           "INSERT INTO models (name, path, registered_ms, owner) VALUES (?, ?, ?, ?) "
           "ON CONFLICT(name) DO UPDATE SET path = excluded.path, owner = excluded.owner")
        .bind(1, name)
        .bind(2, path)
        .bind(3, now_ms())
        .bind(4, owner)
        .run();
  }

  std::optional<std::string> owner(const std::string& name) override {
    auto st = db_.prepare("SELECT owner FROM models WHERE name = ?");
    st.bind(1, name);
    if (st.step()) return st.text(0);
    return std::nullopt;
  }

  std::vector<ModelRow> list() override {
    auto st = db_.prepare(
        "SELECT name, path, registered_ms, active, active_chosen FROM models ORDER BY name");
    std::vector<ModelRow> out;
    while (st.step())
      out.push_back({st.text(0), st.text(1), st.int64(2), st.int64(3) != 0, st.int64(4) != 0});
    return out;
  }

  void set_active(const std::string& name, bool chosen) override {
    Transaction tx(db_);
    db_.exec("UPDATE models SET active = 0, active_chosen = 0");
    db_.prepare("UPDATE models SET active = 1, active_chosen = ? WHERE name = ?")
        .bind(1, static_cast<int64_t>(chosen))
        .bind(2, name)
        .run();
    tx.commit();
  }

 private:
  Database& db_;
};

}  // namespace

std::unique_ptr<ModelCatalog> make_sqlite_model_catalog(Database& db) {
  return std::make_unique<SqliteModelCatalog>(db);
}

}  // namespace fcd
