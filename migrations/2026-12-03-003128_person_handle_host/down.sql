DROP INDEX person_remote_handle_host_idx;
ALTER TABLE person DROP COLUMN handle_host;
