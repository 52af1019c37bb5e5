ALTER TABLE member_stats_pending DROP COLUMN appended_at;
