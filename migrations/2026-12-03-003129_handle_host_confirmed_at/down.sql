ALTER TABLE person DROP COLUMN handle_host_confirmed_at;
