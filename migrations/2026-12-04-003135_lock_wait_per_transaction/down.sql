DROP FUNCTION advisory_xact_lock_within_transaction(INT, INT[], BOOLEAN, INTERVAL);
