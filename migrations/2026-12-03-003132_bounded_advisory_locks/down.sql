DROP FUNCTION advisory_xact_lock_within(INT, INT[], BOOLEAN, INTERVAL);
