DROP TABLE held_activity;
DROP INDEX post_pending_approval;
ALTER TABLE post DROP COLUMN approval, DROP COLUMN approval_reason;
DROP TABLE group_approval;
ALTER TABLE instance DROP COLUMN allowed, DROP COLUMN limited;
DROP TABLE instance_ban;
