-- Whether the remembered active model was chosen by a person (`facecycle models activate`) or
-- only fallen back to at start-up (models/DEFAULT). Only a chosen one outlives a restart, so a
-- data dir that never chose follows models/DEFAULT when an upgrade moves it. 0 for rows from
-- before this migration: those data dirs move to the shipped default once.
ALTER TABLE models ADD COLUMN active_chosen INTEGER NOT NULL DEFAULT 0;
