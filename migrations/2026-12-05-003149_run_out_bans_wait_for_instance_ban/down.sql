DROP TRIGGER instance_ban_ends_set_aside ON instance_ban;
DROP FUNCTION instance_ban_ends_set_aside();
-- The bans set aside come back into the claim's range (the pass then skips them again).
UPDATE group_ban SET expiry_retry_at = NULL
WHERE expires_at IS NOT NULL AND lifted_at IS NULL AND expiry_handled_at IS NULL
  AND expiry_retry_at IS NOT NULL
  AND person_id IN (SELECT person_id FROM instance_ban);
