DROP TABLE idempotent_request;
ALTER TABLE vote DROP COLUMN counted;
DROP INDEX reputation_event_content_idx;
ALTER TABLE reputation_event DROP COLUMN post_id, DROP COLUMN comment_id;
ALTER TABLE points_balance DROP COLUMN capped_day, DROP COLUMN capped_today;
DROP INDEX points_ledger_content_idx;
DROP INDEX points_ledger_live_key;
-- Reversal rows keep their own keys; a key paid again after a reversal is renamed so that the
-- old constraint holds.
UPDATE points_ledger l SET source_key = l.source_key || ':reversed:' || l.id
    WHERE l.reversed;
ALTER TABLE points_ledger ADD CONSTRAINT points_ledger_source_key UNIQUE (source_key);
ALTER TABLE points_ledger
    DROP COLUMN reverses,
    DROP COLUMN reversed,
    DROP COLUMN once,
    DROP COLUMN capped,
    DROP COLUMN post_id,
    DROP COLUMN comment_id;
