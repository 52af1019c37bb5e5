-- Contests: a time-boxed leaderboard over chosen groups and causes; at its close the winners
-- are frozen (and may receive points and a badge).
CREATE TABLE contest (
    id          BIGSERIAL PRIMARY KEY,
    title       TEXT NOT NULL,
    starts_at   TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ NOT NULL,
    -- Empty: every group; likewise every cause.
    group_ids   BIGINT[] NOT NULL DEFAULT '{}',
    causes      TEXT[] NOT NULL DEFAULT '{}',
    created_by  BIGINT REFERENCES person (id) ON DELETE SET NULL,
    closed_at   TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT contest_period_check CHECK (ends_at > starts_at)
);

CREATE TABLE contest_winner (
    contest_id BIGINT NOT NULL REFERENCES contest (id) ON DELETE CASCADE,
    rank       BIGINT NOT NULL,
    person_id  BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    points     BIGINT NOT NULL,
    prize      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (contest_id, person_id)
);
