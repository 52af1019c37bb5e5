-- A host leaves the claim's host list (`delivery_host`) with its last `delivery` row, however
-- that row goes: delivered, given up, expired while parked, or cancelled when its instance is
-- blocked. It was written by hand beside three of those deletes, and the fourth (a blocked
-- instance's queue) was missed: its empty host row then fell due and took a claim's slot. A
-- statement trigger covers every delete, now and later.
--
-- Lock first, then look: the host rows that seem empty are locked (in name order, the order
-- the claim's fold locks them in; those a claim holds are skipped, and may stay listed until a
-- later claim finds them empty: one empty pick), and only then, in a new snapshot, is each
-- checked for rows again. Checking in
-- the snapshot taken before the lock could miss a row queued, and its wake folded by a claim
-- that has since committed, just before the lock was granted: that row would be left with no
-- host entry and no wake, never claimed. After the lock, a row committed earlier is seen, and
-- the wake of a later one is folded after this transaction commits (the fold waits for the
-- lock), bringing the host back. (Reproduced by review with a pause forced inside the trigger
-- on a scratch cluster; no test here forces that interleaving.)
--
-- The hosts are looked up by key (`= ANY (ARRAY(…))`): a transition table has no statistics,
-- and with `IN (…)` the planner read all of `delivery_host` (ten thousand rows after a
-- fan-out) for each batch delivered. "Has it rows left" is asked per host in the queue's index
-- order, which reads one index entry even when the statistics say one host holds every row
-- (an `EXISTS` may become a join that reads the whole queue).
CREATE FUNCTION delivery_host_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    held TEXT[];
BEGIN
    held := ARRAY(
        SELECT x.host FROM delivery_host x
        WHERE x.host = ANY (ARRAY(SELECT DISTINCT host FROM old_rows))
          AND (SELECT 1 FROM delivery d WHERE d.host = x.host
               ORDER BY d.next_attempt_at, d.id LIMIT 1) IS NULL
        ORDER BY x.host FOR UPDATE SKIP LOCKED);
    IF cardinality(held) > 0 THEN
        DELETE FROM delivery_host h WHERE h.host = ANY (held)
          AND (SELECT 1 FROM delivery d WHERE d.host = h.host
               ORDER BY d.next_attempt_at, d.id LIMIT 1) IS NULL;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER delivery_host_emptied AFTER DELETE ON delivery
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_host_on_delete();

-- Every host of a fan-out passes through both tables (a wake row, then a host row inserted,
-- updated by each claim, deleted with its last delivery): thousands of dead rows in seconds,
-- which the claim's index scans step over until a vacuum removes them (consecutive
-- 10,000-host fan-outs seconds apart slowed from 2.6 s to 4.5 s; a VACUUM brought them back
-- to 2.4–2.5 s: docs/benchmarks.md). Vacuum them by a fixed count of dead rows rather than a
-- share of a table that is often near empty. What this gains was not measured: autovacuum
-- looks at most once a minute, so it cannot help within a burst seconds apart.
ALTER TABLE delivery_host SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000);
ALTER TABLE delivery_wake SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000);
