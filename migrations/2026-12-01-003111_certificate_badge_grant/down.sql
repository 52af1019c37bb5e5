DROP INDEX certificate_granted_expiry_idx;
ALTER TABLE certificate DROP COLUMN granted_badge_award;
CREATE INDEX certificate_granted_expiry_idx ON certificate (expires_at) WHERE granted_group IS NOT NULL;
