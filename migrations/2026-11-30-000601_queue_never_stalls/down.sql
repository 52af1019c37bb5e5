DROP INDEX delivery_leased_idx;
DROP INDEX instance_probe_idx;
ALTER TABLE instance DROP COLUMN next_probe_at, DROP COLUMN probe_failures;
DROP INDEX outbox_event_failed_idx;
DROP INDEX outbox_event_due_idx;
ALTER TABLE outbox_event DROP COLUMN attempts, DROP COLUMN next_attempt_at, DROP COLUMN last_error, DROP COLUMN failed_at;
