-- Whether a daemon's remembered model was chosen by a person (`facecycle models activate`,
-- here or --everywhere) or only fallen back to at start-up (models/DEFAULT). The row still
-- says what the daemon holds (cluster status reads it); only a chosen one outlives a restart.
ALTER TABLE model_active ADD COLUMN chosen BOOLEAN NOT NULL DEFAULT false;
