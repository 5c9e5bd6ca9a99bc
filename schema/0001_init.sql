-- facecycle daemon state. Times are Unix milliseconds; 0 = not yet.
CREATE TABLE users (
  name TEXT PRIMARY KEY,
  is_admin INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL
);

CREATE TABLE tokens (
  id INTEGER PRIMARY KEY,
  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  sha256 TEXT NOT NULL UNIQUE,  -- hex SHA-256 of the token; the token itself is never stored
  created_ms INTEGER NOT NULL
);

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('transform', 'train')),
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  owner TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  request_json TEXT NOT NULL DEFAULT '{}',
  output_dir TEXT NOT NULL DEFAULT '',
  result_json TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL DEFAULT 0,
  finished_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_state ON jobs (state, priority DESC, id);
CREATE INDEX jobs_by_owner ON jobs (owner, id);

CREATE TABLE items (
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  input TEXT NOT NULL DEFAULT '',
  output TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  report_json TEXT NOT NULL DEFAULT '',
  claimed_by TEXT NOT NULL DEFAULT '',  -- worker that holds the item while running
  claimed_ms INTEGER NOT NULL DEFAULT 0,
  finished_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (job_id, idx)
);
CREATE INDEX items_by_state ON items (state, job_id, idx);

CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,  -- monotonically increasing: watchers resume after one
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  time_ms INTEGER NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('state', 'progress', 'log', 'metric', 'item')),
  payload_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_by_job ON events (job_id, id);

CREATE TABLE models (
  name TEXT PRIMARY KEY,
  path TEXT NOT NULL,
  registered_ms INTEGER NOT NULL,
  active INTEGER NOT NULL DEFAULT 0
);
