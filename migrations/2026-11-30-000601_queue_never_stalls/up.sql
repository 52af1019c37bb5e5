-- A queue that never stalls or forgets.

-- Outbox events that fail are retried with backoff, each on its own, then parked (failed_at
-- set) with their error for an admin to see: one bad event never holds back the others.
ALTER TABLE outbox_event
    ADD COLUMN attempts        INT NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN last_error      TEXT,
    ADD COLUMN failed_at       TIMESTAMPTZ;
CREATE INDEX outbox_event_due_idx ON outbox_event (next_attempt_at, id) WHERE failed_at IS NULL;
CREATE INDEX outbox_event_failed_idx ON outbox_event (id) WHERE failed_at IS NOT NULL;

-- A dead instance is probed (its NodeInfo) on a schedule that backs off to daily; its
-- deliveries wait, parked, until the probe (or the instance itself) shows it is back.
ALTER TABLE instance
    ADD COLUMN next_probe_at  TIMESTAMPTZ,
    ADD COLUMN probe_failures INT NOT NULL DEFAULT 0;
CREATE INDEX instance_probe_idx ON instance (next_probe_at) WHERE dead;
-- Instances already dead before probes existed are probed at once (else they would wait until
-- they contact us, as before).
UPDATE instance SET next_probe_at = now() WHERE dead;

-- Parked deliveries have next_attempt_at = 'infinity' (out of the due range, in queue order
-- by id). Leased rows are few (in flight in some worker): counting them per host is how the
-- claim keeps every host under its cap, across all worker processes.
CREATE INDEX delivery_leased_idx ON delivery (host) WHERE locked_until IS NOT NULL;
