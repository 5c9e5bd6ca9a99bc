-- One model for every daemon on this database (`facecycle models activate NAME --everywhere`).
-- One row: the model the cluster was last told to use. generation grows with each such
-- activation, so a daemon that re-reads the row (after a lost NOTIFY) knows whether it has
-- answered it already. model_active stays each daemon's own remembered choice.
CREATE TABLE model_cluster (
  one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
  name TEXT NOT NULL REFERENCES models(name) ON DELETE CASCADE,
  generation BIGINT NOT NULL,
  activated_ms BIGINT NOT NULL
);

-- Each daemon's answer, for the reply of an activation and for `facecycle health` on any host.
-- node = the daemon's host and data dir (its resident model is its model_active row); generation
-- = the last cluster activation it answered; error = why it holds another model after that one
-- ('' when it loaded it).
-- listener_pid = the backend of its LISTEN connection: the daemon is alive while that backend is
-- in pg_stat_activity (a dead daemon's row stays, but no one waits for its answer).
CREATE TABLE model_nodes (
  node TEXT PRIMARY KEY,
  generation BIGINT NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  listener_pid INTEGER NOT NULL DEFAULT 0,
  updated_ms BIGINT NOT NULL DEFAULT 0
);
