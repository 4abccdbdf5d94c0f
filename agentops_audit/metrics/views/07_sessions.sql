-- The sessions view, materialised as a TEMP table of the same name: TEMP objects come first in name
-- resolution, so every later query of this connection (metrics of every area, the success predicate)
-- reads this copy instead of re-aggregating all spans. The audit reads a fixed database, so the copy
-- cannot go stale.
CREATE TEMP TABLE IF NOT EXISTS sessions AS SELECT * FROM main.sessions;
