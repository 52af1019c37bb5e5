ALTER TABLE person DROP COLUMN handle_host_asked_at;
