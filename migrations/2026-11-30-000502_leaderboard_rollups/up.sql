-- Live leaderboards read rollups of the reputation ledger instead of the ledger itself. The
-- rollups are kept by triggers on `reputation_event`: every row written there — an earning,
-- its reversal, by whatever code path, and the rare UPDATE (a group deleted sets its events'
-- group to NULL) or DELETE (a person deleted) — moves them in the same statement, hence in the
-- same transaction. A scope is 0 for the whole instance or a group's id (no reference: when a
-- group goes, the update of its events brings its rows to zero, and zero rows are not ranked).
-- Days are UTC days, as for the daily cap.

-- The first day of the calendar period holding `day`: ISO week (Monday), month, year; a fixed
-- day for all time. cenacle_domain::boards::BoardPeriod::bounds says the same.
CREATE FUNCTION reputation_board_start(period TEXT, day DATE) RETURNS DATE
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE period
        WHEN 'week' THEN date_trunc('week', day::timestamp)::date
        WHEN 'month' THEN date_trunc('month', day::timestamp)::date
        WHEN 'year' THEN date_trunc('year', day::timestamp)::date
        ELSE DATE '1970-01-01'
    END;

-- What each person earned each day, per scope: custom boards add it up over their days.
CREATE TABLE reputation_day (
    scope     BIGINT NOT NULL,
    day       DATE NOT NULL,
    person_id BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    points    BIGINT NOT NULL,
    PRIMARY KEY (scope, day, person_id) INCLUDE (points)
);

-- What each person earned in each week, month, year and all time, per scope: a board is one
-- index range read in rank order, "my position" counts the distinct totals above mine.
CREATE TABLE reputation_board (
    period    TEXT NOT NULL CONSTRAINT reputation_board_period_check
        CHECK (period IN ('week', 'month', 'year', 'all')),
    starts    DATE NOT NULL,
    scope     BIGINT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    points    BIGINT NOT NULL,
    PRIMARY KEY (period, starts, scope, person_id)
);
-- Only positive totals are ranked.
CREATE INDEX reputation_board_rank_idx ON reputation_board (period, starts, scope, points DESC, person_id)
    WHERE points > 0;

-- The rows of a change: each event counts for the instance (scope 0) and for its group.
-- Three triggers share one function; each branch reads the transition tables its event has.
-- Rows are written in key order, so that two statements never wait on each other's rows in
-- opposite orders.
CREATE FUNCTION reputation_rollups_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- Only existing rows are lowered: when a person is deleted, their rollups may be gone
        -- already (and a new row for them could not be written).
        WITH ch AS (
                SELECT s.scope, (r.created_at AT TIME ZONE 'UTC')::date AS day, r.person_id, -r.delta AS delta
                FROM old_rows r CROSS JOIN LATERAL (VALUES (0::bigint), (r.group_id)) AS s (scope)
                WHERE s.scope IS NOT NULL),
             days AS (
                UPDATE reputation_day d SET points = d.points + c.delta
                FROM (SELECT scope, day, person_id, SUM(delta) AS delta FROM ch GROUP BY 1, 2, 3) c
                WHERE d.scope = c.scope AND d.day = c.day AND d.person_id = c.person_id)
        UPDATE reputation_board b SET points = b.points + c.delta
        FROM (SELECT p.period, reputation_board_start(p.period, ch.day) AS starts, ch.scope, ch.person_id,
                     SUM(ch.delta) AS delta
              FROM ch CROSS JOIN (VALUES ('week'), ('month'), ('year'), ('all')) AS p (period)
              GROUP BY 1, 2, 3, 4) c
        WHERE b.period = c.period AND b.starts = c.starts AND b.scope = c.scope AND b.person_id = c.person_id;
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        WITH ch AS (
                SELECT s.scope, (r.created_at AT TIME ZONE 'UTC')::date AS day, r.person_id, r.delta
                FROM new_rows r CROSS JOIN LATERAL (VALUES (0::bigint), (r.group_id)) AS s (scope)
                WHERE s.scope IS NOT NULL AND r.delta <> 0),
             days AS (
                INSERT INTO reputation_day AS d (scope, day, person_id, points)
                SELECT scope, day, person_id, SUM(delta) FROM ch
                GROUP BY 1, 2, 3 HAVING SUM(delta) <> 0 ORDER BY 1, 2, 3
                ON CONFLICT (scope, day, person_id) DO UPDATE SET points = d.points + EXCLUDED.points)
        INSERT INTO reputation_board AS b (period, starts, scope, person_id, points)
        SELECT p.period, reputation_board_start(p.period, ch.day), ch.scope, ch.person_id, SUM(ch.delta)
        FROM ch CROSS JOIN (VALUES ('week'), ('month'), ('year'), ('all')) AS p (period)
        GROUP BY 1, 2, 3, 4 HAVING SUM(ch.delta) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (period, starts, scope, person_id) DO UPDATE SET points = b.points + EXCLUDED.points;
        RETURN NULL;
    END IF;
    -- UPDATE: what the new rows count minus what the old ones did. Marking an event reversed
    -- changes nothing counted and writes nothing.
    WITH ch AS (
            SELECT s.scope, (r.created_at AT TIME ZONE 'UTC')::date AS day, r.person_id, r.delta
            FROM new_rows r CROSS JOIN LATERAL (VALUES (0::bigint), (r.group_id)) AS s (scope)
            WHERE s.scope IS NOT NULL
            UNION ALL
            SELECT s.scope, (r.created_at AT TIME ZONE 'UTC')::date, r.person_id, -r.delta
            FROM old_rows r CROSS JOIN LATERAL (VALUES (0::bigint), (r.group_id)) AS s (scope)
            WHERE s.scope IS NOT NULL),
         days AS (
            INSERT INTO reputation_day AS d (scope, day, person_id, points)
            SELECT scope, day, person_id, SUM(delta) FROM ch
            GROUP BY 1, 2, 3 HAVING SUM(delta) <> 0 ORDER BY 1, 2, 3
            ON CONFLICT (scope, day, person_id) DO UPDATE SET points = d.points + EXCLUDED.points)
    INSERT INTO reputation_board AS b (period, starts, scope, person_id, points)
    SELECT p.period, reputation_board_start(p.period, ch.day), ch.scope, ch.person_id, SUM(ch.delta)
    FROM ch CROSS JOIN (VALUES ('week'), ('month'), ('year'), ('all')) AS p (period)
    GROUP BY 1, 2, 3, 4 HAVING SUM(ch.delta) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (period, starts, scope, person_id) DO UPDATE SET points = b.points + EXCLUDED.points;
    RETURN NULL;
END;
$$;

-- The triggers first: they lock the ledger against writers until this migration commits, so
-- the backfill below sees every row written before them and the triggers every row after.
CREATE TRIGGER reputation_rollups_insert AFTER INSERT ON reputation_event
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION reputation_rollups_apply();
CREATE TRIGGER reputation_rollups_update AFTER UPDATE ON reputation_event
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION reputation_rollups_apply();
CREATE TRIGGER reputation_rollups_delete AFTER DELETE ON reputation_event
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION reputation_rollups_apply();

-- The rollups of the ledger as it stands.
INSERT INTO reputation_day (scope, day, person_id, points)
SELECT s.scope, (e.created_at AT TIME ZONE 'UTC')::date, e.person_id, SUM(e.delta)
FROM reputation_event e CROSS JOIN LATERAL (VALUES (0::bigint), (e.group_id)) AS s (scope)
WHERE s.scope IS NOT NULL
GROUP BY 1, 2, 3 HAVING SUM(e.delta) <> 0;

INSERT INTO reputation_board (period, starts, scope, person_id, points)
SELECT p.period, reputation_board_start(p.period, d.day), d.scope, d.person_id, SUM(d.points)
FROM reputation_day d CROSS JOIN (VALUES ('week'), ('month'), ('year'), ('all')) AS p (period)
GROUP BY 1, 2, 3, 4 HAVING SUM(d.points) <> 0;
-- (reputation_event_time_idx stays: contest boards, filtered by cause, still read the ledger.)
