-- A Follow the pass over bans that ran out fails to send (its savepoint rolled back) is tried
-- again later, each time twice as late (one minute, then two, four… at most a day apart):
-- a ban that fails every time (bad data, a bug) no longer takes a place in every pass, nor
-- holds back the bans behind it. It is never given up: the member would be left following a
-- group that sends them nothing. Banning again starts afresh.
ALTER TABLE group_ban
    ADD COLUMN expiry_attempts INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN expiry_retry_at TIMESTAMPTZ;
