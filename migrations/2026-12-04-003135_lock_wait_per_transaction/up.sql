-- `advisory_xact_lock_within` with its bound counted for the whole transaction: `max_wait`
-- runs from the transaction's first call of this function, not from each call. A transaction
-- that takes several bounded holds in turn (the inbox holds its signer's standing, then the
-- verdicts on their hosts, then the same for the person a group's Announce carries; a
-- handle's confirmation holds the person, then the verdict on the host) waited up to the
-- bound once per call. The start is kept in a transaction-local setting
-- (`cenacle.bounded_locks_since`, seconds since the epoch), gone at commit or rollback; it is
-- set here, in a function without a SET clause, as one with such a clause would put it back
-- on return. A lock free at once is still taken once the time is spent: only waiting is
-- bounded.
CREATE FUNCTION advisory_xact_lock_within_transaction(
    lock_class INT, lock_objects INT[], exclusive_lock BOOLEAN, max_wait INTERVAL
) RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    since TEXT := current_setting('cenacle.bounded_locks_since', true);
BEGIN
    IF since IS NULL OR since = '' THEN
        since := extract(epoch FROM clock_timestamp())::TEXT;
        PERFORM set_config('cenacle.bounded_locks_since', since, true);
    END IF;
    RETURN advisory_xact_lock_within(lock_class, lock_objects, exclusive_lock,
        greatest(interval '0', to_timestamp(since::DOUBLE PRECISION) + max_wait - clock_timestamp()));
END $$;
