DROP TRIGGER outbox_event_notify ON outbox_event;
DROP TRIGGER delivery_notify ON delivery;
DROP FUNCTION notify_delivery();
DROP TABLE delivery;
DROP TABLE outgoing_activity;
DROP TABLE outbox_event;
DROP TABLE instance;
DROP TABLE received_activity;
DROP TABLE follow;
DROP TABLE instance_actor;
DROP TABLE community_group;
DROP INDEX person_ap_id_key;
ALTER TABLE person
    DROP COLUMN ap_id, DROP COLUMN inbox_url, DROP COLUMN shared_inbox_url,
    DROP COLUMN public_key_pem, DROP COLUMN private_key_pem, DROP COLUMN instance_host,
    DROP COLUMN last_refreshed_at;
