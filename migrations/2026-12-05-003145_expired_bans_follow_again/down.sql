DROP INDEX group_ban_expiry_unhandled;
ALTER TABLE group_ban DROP COLUMN expiry_handled_at;
