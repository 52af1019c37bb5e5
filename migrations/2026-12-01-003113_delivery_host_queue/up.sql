-- The claim's view of the queue by host. Reading due rows oldest first made every claim read
-- the whole backlog of a host already at its cap (its rows are the oldest) before reaching the
-- hosts it could serve. Now the claim picks hosts from `delivery_host` — one row per host with
-- work queued, and the earliest time any of it may be claimable — and reads only their rows.
--
-- `next_due` is a lower bound, never later than the truth: a claim that finds less than the
-- bound promised recomputes it. What makes a row claimable sooner (a new row, a retry, a
-- release) is written by the triggers below to `delivery_wake`, an append-only log that takes
-- no lock a sender or an inbox waits on (an instance coming back to life writes its wake
-- itself); the next claim folds it into `delivery_host`. A wake row of a transaction not yet
-- committed stays in the log until it is, so a claim recomputing a host while a new row for it
-- is being queued cannot lose that row. A host leaves `delivery_host` with its last row.

-- A host's queue in claim order, the id breaking ties, so that "its oldest N" is read from the
-- index and stops after N, even where the planner believes one host holds every row (true of
-- a backlog to one big instance: the plan it then chose sorted the whole table).
DROP INDEX delivery_host_due_idx;
CREATE INDEX delivery_host_queue_idx ON delivery (host, next_attempt_at, id);

CREATE TABLE delivery_host (
    host     TEXT PRIMARY KEY,
    next_due TIMESTAMPTZ NOT NULL
);
-- In claim order (ties by name), so that picking the first due hosts stops after them even
-- when a fan-out has given ten thousand hosts the same due time.
CREATE INDEX delivery_host_next_due_idx ON delivery_host (next_due, host);

CREATE TABLE delivery_wake (
    id   BIGSERIAL PRIMARY KEY,
    host TEXT NOT NULL,
    due  TIMESTAMPTZ NOT NULL
);

-- When a row may next be claimed: its due time, or the end of its lease while it is leased.
CREATE FUNCTION delivery_claimable_at(next_attempt_at TIMESTAMPTZ, locked_until TIMESTAMPTZ)
RETURNS TIMESTAMPTZ LANGUAGE sql IMMUTABLE AS
$$ SELECT GREATEST(next_attempt_at, COALESCE(locked_until, next_attempt_at)) $$;

CREATE FUNCTION delivery_wake_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_wake (host, due)
    SELECT host, min(next_attempt_at) FROM new_rows
    WHERE next_attempt_at < 'infinity' GROUP BY host;
    RETURN NULL;
END $$;
CREATE TRIGGER delivery_wake_inserted AFTER INSERT ON delivery
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_wake_on_insert();

-- Only rows that became claimable sooner wake their host (a claim's own lease does not).
CREATE FUNCTION delivery_wake_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_wake (host, due)
    SELECT n.host, min(delivery_claimable_at(n.next_attempt_at, n.locked_until))
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE delivery_claimable_at(n.next_attempt_at, n.locked_until)
          < delivery_claimable_at(o.next_attempt_at, o.locked_until)
    GROUP BY n.host;
    RETURN NULL;
END $$;
CREATE TRIGGER delivery_wake_updated AFTER UPDATE ON delivery
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION delivery_wake_on_update();

INSERT INTO delivery_host (host, next_due)
SELECT host, min(delivery_claimable_at(next_attempt_at, locked_until)) FROM delivery GROUP BY host;
