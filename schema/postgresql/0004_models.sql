-- The model registry (schema/0001 and 0002 for SQLite), shared by every daemon on this
-- database: a model trained or copied in through one daemon is known to all, at the path its
-- files have on storage every host sees (`models_dir`). owner '' = found in a models folder
-- (shipped or copied in): admins only.
CREATE TABLE models (
  name TEXT PRIMARY KEY,
  path TEXT NOT NULL,
  registered_ms BIGINT NOT NULL,
  owner TEXT NOT NULL DEFAULT ''
);

-- Which model each daemon last made resident, for its next start. Not shared: every host holds
-- its own copy on its own GPU. node = the daemon's host and data dir (its lease holder's node).
CREATE TABLE model_active (
  node TEXT PRIMARY KEY,
  name TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
  activated_ms BIGINT NOT NULL
);
