-- Reputation and reward points: each a ledger of immutable rows plus a cached total changed in
-- the same transaction, with CHECKs that keep reputation at 1 or more and points at 0 or more.

CREATE TABLE reputation (
    person_id BIGINT PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    score     BIGINT NOT NULL DEFAULT 1 CONSTRAINT reputation_floor CHECK (score >= 1)
);
-- The all-time board ranks the cached totals, not the ledger.
CREATE INDEX reputation_score_idx ON reputation (score DESC);

CREATE TABLE reputation_event (
    id          BIGSERIAL PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    delta       BIGINT NOT NULL,
    cause       TEXT NOT NULL,
    -- What earned it, e.g. "like:post:12:by:7". One live event per key: a replayed cause pays
    -- nothing; undoing the cause reverses the event, after which it may be earned again.
    source_key  TEXT NOT NULL,
    group_id    BIGINT REFERENCES community_group (id) ON DELETE SET NULL,
    reverses    BIGINT REFERENCES reputation_event (id) ON DELETE CASCADE,
    reversed    BOOLEAN NOT NULL DEFAULT FALSE,
    -- Counts toward the daily cap on reputation from likes.
    capped      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX reputation_event_live_key ON reputation_event (source_key) WHERE reverses IS NULL AND NOT reversed;
CREATE INDEX reputation_event_person_time_idx ON reputation_event (person_id, created_at);
-- Leaderboards over a period read only this index (an index-only scan of the period's rows).
CREATE INDEX reputation_event_time_idx ON reputation_event (created_at) INCLUDE (person_id, delta, group_id);

CREATE TABLE points_balance (
    person_id BIGINT PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    balance   BIGINT NOT NULL DEFAULT 0 CONSTRAINT points_balance_not_negative CHECK (balance >= 0)
);

CREATE TABLE points_ledger (
    id          BIGSERIAL PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    delta       BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    -- Idempotency: a replayed event never pays twice.
    source_key  TEXT NOT NULL CONSTRAINT points_ledger_source_key UNIQUE,
    granted_by  BIGINT REFERENCES person (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX points_ledger_person_idx ON points_ledger (person_id, id);

-- How much a remote instance's votes count here (0 silences it).
ALTER TABLE instance ADD COLUMN reputation_weight DOUBLE PRECISION NOT NULL DEFAULT 1.0
    CONSTRAINT instance_reputation_weight_check CHECK (reputation_weight >= 0);

-- A remote member's reputation and rank at their home instance, shown beside ours, never mixed.
ALTER TABLE person ADD COLUMN home_reputation BIGINT, ADD COLUMN home_rank TEXT;
