ALTER TABLE person DROP COLUMN handle_host_missed_by_actor;
