-- Delivery workers wake for what arrived: new deliveries ('delivery') or new outbox events
-- ('outbox'), so that a burst of deliveries does not make them look at an empty outbox each
-- time.
CREATE FUNCTION notify_outbox() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('cenacle_delivery', 'outbox');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER outbox_event_notify ON outbox_event;
CREATE TRIGGER outbox_event_notify AFTER INSERT ON outbox_event
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();

CREATE OR REPLACE FUNCTION notify_delivery() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('cenacle_delivery', 'delivery');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
