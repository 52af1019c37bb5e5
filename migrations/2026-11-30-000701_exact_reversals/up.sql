-- Reversals are exact, so that a reward and its undoing always cancel.
--
-- Reputation: the score is the exact sum of its events (from 1), below 1 if dislikes took more
-- than there was; the floor of 1 is applied when it is read (shown, gated on). Recording
-- floored deltas made a like withdrawn after dislikes (or dislikes withdrawn) leave the member
-- above or below where they started.
ALTER TABLE reputation DROP CONSTRAINT reputation_floor;

-- Points: a reward whose cause went is taken back in full, even when its points were already
-- spent: the balance then goes below zero, a debt that later earnings pay first. Only a
-- reversal (or a credit that does not clear the debt yet) may leave it below zero: every move
-- says whether it may (`may_owe`), and a spend or a correction never may, so spending still
-- needs a balance that covers it (the same CHECK name: the API answers 409
-- balance_would_be_negative as before).
ALTER TABLE points_balance ADD COLUMN may_owe BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE points_balance DROP CONSTRAINT points_balance_not_negative;
ALTER TABLE points_balance ADD CONSTRAINT points_balance_not_negative CHECK (balance >= 0 OR may_owe);
