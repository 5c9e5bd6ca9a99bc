// Users and tokens in PostgreSQL (schema/postgresql/0003_users_tokens.sql), chosen with the job
// store by `database = "postgresql://..."`: every daemon on the database, and `facecycled token`,
// see the same users and tokens. Built only with libpqxx (FC_HAVE_POSTGRES).
#pragma once

#include <memory>
#include <string>

#include "store/token_store.h"

namespace fcd {

// Its own connection (the job store's is busy with the queue), with the schema migrated.
// Throws DbError when the server cannot be reached or the migration fails.
std::unique_ptr<TokenStore> make_postgres_token_store(const std::string& url);

}  // namespace fcd
