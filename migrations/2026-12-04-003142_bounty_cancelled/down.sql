-- Cancelled bounties read as expired (closed, nobody paid) before the constraint narrows.
UPDATE bounty SET status = 'expired' WHERE status = 'cancelled';
ALTER TABLE bounty DROP CONSTRAINT bounty_status_check;
ALTER TABLE bounty ADD CONSTRAINT bounty_status_check
    CHECK (status IN ('open', 'awarded', 'expired'));
