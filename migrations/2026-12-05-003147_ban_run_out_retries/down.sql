ALTER TABLE group_ban DROP COLUMN expiry_retry_at, DROP COLUMN expiry_attempts;
