DROP INDEX group_ban_expiry_unhandled;
ALTER TABLE group_ban DROP COLUMN expiry_retry_at, DROP COLUMN expiry_attempts;
CREATE INDEX group_ban_expiry_unhandled ON group_ban (expires_at)
    WHERE expires_at IS NOT NULL AND lifted_at IS NULL AND expiry_handled_at IS NULL;
