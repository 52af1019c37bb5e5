-- When the background refresh of a snapshot last failed (NULL: it has not since its last
-- computation). A topic whose computation fails (bad data, a timeout) stays the stalest of
-- all: the pass, which takes the stalest first, would take it first on every pass and never
-- reach the others. It goes on past it, and takes it again only after the others due and
-- once a refresh interval has passed since the failure (`shortlist_snapshots::claim_due`).
ALTER TABLE shortlist_snapshot ADD COLUMN refresh_failed_at TIMESTAMPTZ;
