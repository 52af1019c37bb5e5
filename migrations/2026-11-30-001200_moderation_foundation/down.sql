ALTER TABLE comment DROP COLUMN removal_reason, DROP COLUMN removed_at;
ALTER TABLE post DROP COLUMN removal_reason, DROP COLUMN removed_at;
DROP TABLE moderation_action;
