-- Who trained a registered model. Model names belong to their owner: only they, or an admin, may
-- replace one. '' = found in a models folder at start-up (shipped or copied in): admins only.
ALTER TABLE models ADD COLUMN owner TEXT NOT NULL DEFAULT '';
