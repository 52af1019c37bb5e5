-- Takes, until the transaction ends, the advisory locks (`lock_class`, o) for the distinct
-- objects o of `lock_objects` (in ascending order), shared or exclusive, waiting at most
-- `max_wait` for the whole call (not for each lock): true once all are held; false when the
-- time ran out (the locks taken before stay held; the caller rolls back). Each lock is tried
-- first; one refused is waited for under `lock_timeout` set to the time left, its expiry caught
-- by its SQLSTATE (55P03 `lock_not_available`, whatever the server's language) in a block of
-- its own, which leaves the caller's transaction usable. The SET clause puts the caller's
-- `lock_timeout` back on return, the one set here included.
CREATE FUNCTION advisory_xact_lock_within(
    lock_class INT, lock_objects INT[], exclusive_lock BOOLEAN, max_wait INTERVAL
) RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE
SET lock_timeout = 0
AS $$
DECLARE
    deadline TIMESTAMPTZ := clock_timestamp() + max_wait;
    lock_object INT;
    held BOOLEAN;
    left_ms BIGINT;
BEGIN
    FOR lock_object IN
        SELECT DISTINCT o FROM unnest(lock_objects) AS o WHERE o IS NOT NULL ORDER BY o
    LOOP
        IF exclusive_lock THEN
            held := pg_try_advisory_xact_lock(lock_class, lock_object);
        ELSE
            held := pg_try_advisory_xact_lock_shared(lock_class, lock_object);
        END IF;
        CONTINUE WHEN held;
        left_ms := greatest(1, ceil(extract(epoch FROM deadline - clock_timestamp()) * 1000));
        PERFORM set_config('lock_timeout', left_ms::TEXT, true);
        BEGIN
            IF exclusive_lock THEN
                PERFORM pg_advisory_xact_lock(lock_class, lock_object);
            ELSE
                PERFORM pg_advisory_xact_lock_shared(lock_class, lock_object);
            END IF;
        EXCEPTION WHEN lock_not_available THEN
            RETURN false;
        END;
    END LOOP;
    RETURN true;
END $$;
