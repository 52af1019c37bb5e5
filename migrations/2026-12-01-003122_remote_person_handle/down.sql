DROP INDEX person_remote_handle_idx;
