-- Which revocations a certificate's expiry made: a renewal gives back the badge its expiry
-- took, never one a manager revoked. Said by the row itself, not guessed from its reason text.
ALTER TABLE badge_award
    ADD COLUMN revoked_on_expiry BOOLEAN NOT NULL DEFAULT false,
    ADD CONSTRAINT badge_award_expiry_is_a_revocation
        CHECK (NOT revoked_on_expiry OR (revoked_at IS NOT NULL AND revoked_by IS NULL));

-- Expiries recorded before: no one revoked them, with the sweep's reason.
UPDATE badge_award SET revoked_on_expiry = true
WHERE revoked_at IS NOT NULL AND revoked_by IS NULL AND revoke_reason = 'certificate expired';
