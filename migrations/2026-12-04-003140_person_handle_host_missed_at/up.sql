-- Issue 16: any WebFinger 404 for a confirmed split-domain handle (`person.handle_host`,
-- migration 2026-12-03-003128) took the handle from its holder, and with it every later
-- mention's way to them. A 404 is also what a proxy misconfigured during a deploy, a server
-- restarting behind a load balancer or a moved WebFinger route answers: it now counts as a
-- miss, dated here (the first since the handle was last confirmed), and the handle goes only
-- when misses persist (another one long enough after it, no confirmation between:
-- `cenacle_apub::webfinger_lookup`). A confirmation clears the date, and so does losing the
-- handle: a miss is always of the handle held, which the check keeps true.
ALTER TABLE person ADD COLUMN handle_host_missed_at TIMESTAMPTZ;
ALTER TABLE person ADD CONSTRAINT person_handle_host_missed_at_check
    CHECK (handle_host_missed_at IS NULL OR handle_host IS NOT NULL);
