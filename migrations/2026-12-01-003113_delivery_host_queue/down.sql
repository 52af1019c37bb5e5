DROP TRIGGER delivery_wake_updated ON delivery;
DROP TRIGGER delivery_wake_inserted ON delivery;
DROP FUNCTION delivery_wake_on_update();
DROP FUNCTION delivery_wake_on_insert();
DROP FUNCTION delivery_claimable_at(TIMESTAMPTZ, TIMESTAMPTZ);
DROP TABLE delivery_wake;
DROP TABLE delivery_host;
DROP INDEX delivery_host_queue_idx;
CREATE INDEX delivery_host_due_idx ON delivery (host, next_attempt_at);
