-- Issue 9: when the fold falls behind (stopped, failing, outrun), the changes wait in
-- `member_stats_pending` and readers add up more and more of them; `/metrics` tells the
-- operator how many wait and since when (`cenacle_statistics_pending`,
-- `cenacle_statistics_oldest_pending_seconds`). The identity alone cannot date a change, hence
-- the time it was appended (its transaction's start). A constant default for the rows already
-- there: no table rewrite.
ALTER TABLE member_stats_pending ADD COLUMN appended_at TIMESTAMPTZ NOT NULL DEFAULT now();
