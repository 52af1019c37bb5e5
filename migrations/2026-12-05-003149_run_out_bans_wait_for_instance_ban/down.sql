DROP TRIGGER instance_ban_ends_set_aside ON instance_ban;
DROP FUNCTION instance_ban_ends_set_aside();
-- The bans set aside come back into the claim's range (the pass then skips them again): those
-- whose wait is the instance ban's end or later, as the trigger reads them, so that a failed
-- Follow's back-off (an earlier wait) is kept.
UPDATE group_ban SET expiry_retry_at = NULL
WHERE expires_at IS NOT NULL AND lifted_at IS NULL AND expiry_handled_at IS NULL
  AND expiry_retry_at >= (SELECT COALESCE(i.expires_at, 'infinity') FROM instance_ban i
                          WHERE i.person_id = group_ban.person_id);
