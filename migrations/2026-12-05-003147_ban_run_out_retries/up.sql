-- A Follow the pass over bans that ran out fails to send (its savepoint rolled back) is tried
-- again later, no sooner than a minute after the failure, then twice as late after each other
-- (at most a day apart), at the first pass after that time: a ban that fails every time (bad
-- data, a bug) no longer takes a place in every pass, nor holds back the bans behind it. It is
-- never given up: the member would be left following a group that sends them nothing.
-- Banning again starts afresh.
ALTER TABLE group_ban
    ADD COLUMN expiry_attempts INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN expiry_retry_at TIMESTAMPTZ;

-- What the pass claims, in the order the bans came due: their end, or their retry time once
-- one failed (GREATEST ignores a NULL retry time). Ordered by the end alone, the bans waiting
-- for their retry would come first in the index and be read, then skipped, at every batch.
DROP INDEX group_ban_expiry_unhandled;
CREATE INDEX group_ban_expiry_unhandled ON group_ban (GREATEST(expires_at, expiry_retry_at))
    WHERE expires_at IS NOT NULL AND lifted_at IS NULL AND expiry_handled_at IS NULL;
