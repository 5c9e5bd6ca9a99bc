// Schema migrations: schema/NNNN_name.sql, embedded into the binary at build time.
#pragma once

#include <string>
#include <vector>

#include "store/database.h"

namespace fcd {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// The migrations compiled into this binary, in version order (generated from schema/).
const std::vector<Migration>& embedded_migrations();

// Applies every migration newer than the recorded schema_version, each in its own transaction.
// Returns how many were applied; running it again is harmless. Throws DbError, naming the file.
int apply_migrations(Database& db, const std::vector<Migration>& migrations);
inline int apply_migrations(Database& db) { return apply_migrations(db, embedded_migrations()); }

int schema_version(Database& db);

}  // namespace fcd
