-- The badge award a certificate made (not one its holder already had from elsewhere), as
-- `granted_group` is for the unlocked membership: at expiry the sweep revokes only that
-- award, so a badge a manager gave by hand outlives the certificate.
ALTER TABLE certificate
    ADD COLUMN granted_badge_award BIGINT REFERENCES badge_award (id) ON DELETE SET NULL;

-- Certificates issued before: their course's badge, held now and awarded by no one (a
-- certificate's award; a manager's names the manager), is theirs.
UPDATE certificate c SET granted_badge_award = a.id
FROM course k, badge_award a
WHERE k.id = c.course_id AND a.badge_id = k.badge_id AND a.person_id = c.person_id
  AND a.revoked_at IS NULL AND a.awarded_by IS NULL;

-- The sweep looks for expired certificates that still hold a membership or a badge.
DROP INDEX certificate_granted_expiry_idx;
CREATE INDEX certificate_granted_expiry_idx ON certificate (expires_at)
    WHERE granted_group IS NOT NULL OR granted_badge_award IS NOT NULL;
