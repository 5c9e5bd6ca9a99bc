-- Tokens that can be listed, expired and revoked. 0 = never / not yet. last_used_ms is written
-- at most once a minute per token, so that checking a token is not a write on every call.
-- A revoked token keeps its row, so that `token list` still shows who had it and when.
ALTER TABLE tokens ADD COLUMN last_used_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN expires_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN revoked_ms INTEGER NOT NULL DEFAULT 0;
