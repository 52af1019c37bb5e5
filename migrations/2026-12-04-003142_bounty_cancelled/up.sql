-- A bounty whose question goes (deleted or removed) is closed as cancelled, its escrow given
-- back to the sponsor.
ALTER TABLE bounty DROP CONSTRAINT bounty_status_check;
ALTER TABLE bounty ADD CONSTRAINT bounty_status_check
    CHECK (status IN ('open', 'awarded', 'expired', 'cancelled'));
