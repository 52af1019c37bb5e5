ALTER TABLE shortlist_snapshot DROP COLUMN refresh_failed_at;
