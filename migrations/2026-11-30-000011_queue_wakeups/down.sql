DROP TRIGGER outbox_event_notify ON outbox_event;
CREATE TRIGGER outbox_event_notify AFTER INSERT ON outbox_event
    FOR EACH STATEMENT EXECUTE FUNCTION notify_delivery();
DROP FUNCTION notify_outbox();
CREATE OR REPLACE FUNCTION notify_delivery() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('cenacle_delivery', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
