ALTER TABLE badge_award DROP COLUMN revoked_on_expiry;
