-- A host leaves the claim's host list (`delivery_host`) with its last `delivery` row, however
-- that row goes: delivered, given up, expired while parked, or cancelled when its instance is
-- blocked. It was written by hand beside three of those deletes, and the fourth (a blocked
-- instance's queue) was missed: its empty host row then fell due and took a claim's slot. A
-- statement trigger covers every delete, now and later.
--
-- Host rows are locked in name order, the order the claim's fold locks them in, and those a
-- claim holds are skipped: that claim recomputes its hosts and drops those left empty. A row
-- queued meanwhile for a host removed here brings it back through its wake (see
-- 2026-12-01-003113_delivery_host_queue), so nothing is lost. The hosts are looked up by key
-- (`= ANY (ARRAY(…))`): a transition table has no statistics, and with `IN (…)` the planner
-- read all of `delivery_host` (ten thousand rows after a fan-out) for each batch delivered.
CREATE FUNCTION delivery_host_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM delivery_host h WHERE h.host = ANY (ARRAY(
        SELECT x.host FROM delivery_host x
        WHERE x.host = ANY (ARRAY(SELECT DISTINCT host FROM old_rows))
          AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.host = x.host)
        ORDER BY x.host FOR UPDATE SKIP LOCKED));
    RETURN NULL;
END $$;
CREATE TRIGGER delivery_host_emptied AFTER DELETE ON delivery
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_host_on_delete();

-- Hosts a blocked instance's cancelled queue left behind.
DELETE FROM delivery_host h WHERE NOT EXISTS (SELECT 1 FROM delivery d WHERE d.host = h.host);

-- Every host of a fan-out passes through both tables (a wake row, then a host row inserted,
-- updated by each claim, deleted with its last delivery): thousands of dead rows in seconds,
-- which the claim's index scans step over until a vacuum removes them (measured: consecutive
-- 10,000-host fan-outs slowed from 2.6 s to 4.5 s; scripts/bench-delivery-queue). Vacuum
-- them by a fixed count of dead rows rather than a share of a table that is often near empty.
ALTER TABLE delivery_host SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000);
ALTER TABLE delivery_wake SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000);
