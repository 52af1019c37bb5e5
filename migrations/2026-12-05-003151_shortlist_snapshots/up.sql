-- The champions shortlist of a topic, kept per topic and period length (issue 12). Computing it
-- sums every rollup row of the topic over the period (one per member active per day and tag)
-- and ranks every member who replied there: a third of a second at a million events, ten
-- times that at ten million. A community manager asks again and again for the few topics they
-- watch, and figures a few minutes old serve them as well: the request reads this one row
-- when it is fresh, and the server recomputes the rows asked for lately in the background
-- (`insights.shortlist_refresh_seconds`). Rows never asked are never computed.
CREATE TABLE shortlist_snapshot (
    id              BIGSERIAL PRIMARY KEY,
    -- As the rollups: '' for every contribution, else the tag.
    tag             TEXT NOT NULL,
    -- NULL: every open group (instance-wide figures).
    group_id        BIGINT REFERENCES community_group (id) ON DELETE CASCADE,
    -- The period's length: the snapshot is of the `days` days ending today (included).
    days            INT NOT NULL CHECK (days > 0),
    period_from     DATE NOT NULL,
    period_to       DATE NOT NULL,
    -- When its rollups were read (the answer's `as_of`).
    computed_at     TIMESTAMPTZ NOT NULL,
    -- When a request last wanted it: only rows asked for lately are kept fresh.
    last_asked_at   TIMESTAMPTZ NOT NULL,
    -- The topic's share of answers accepted over the period (the rules' prior).
    acceptance_rate DOUBLE PRECISION NOT NULL,
    -- Whether `entries` holds every member with some influence (else the top ones only).
    complete        BOOLEAN NOT NULL,
    -- The top members, best first, with the sums the influence rules read (person_id,
    -- threads, ideas, replies, accepted, likes, views, helped): the figures themselves are
    -- computed from these at each read, by the same code as a live answer's.
    entries         JSONB NOT NULL,
    CHECK (period_from < period_to)
);
-- One row per topic and length. COALESCE rather than NULLS NOT DISTINCT: an external
-- database may be older than PostgreSQL 15.
CREATE UNIQUE INDEX shortlist_snapshot_topic_idx
    ON shortlist_snapshot (tag, COALESCE(group_id, 0), days);
