-- Rollups kept beside each person's reputation, changed by the same statement as the score,
-- so that a like never recounts the ledger: what capped causes (likes) earned today, for the
-- daily cap, and how many likes the person received, for the hundred-likes badge.
ALTER TABLE reputation
    ADD COLUMN capped_day DATE,
    ADD COLUMN capped_today BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN likes_received BIGINT NOT NULL DEFAULT 0;

UPDATE reputation r SET
    capped_day = (now() AT TIME ZONE 'UTC')::date,
    capped_today = COALESCE((
        SELECT SUM(e.delta) FROM reputation_event e
        WHERE e.person_id = r.person_id AND e.capped
          AND e.created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'), 0),
    -- Kept as the number of live like events, the definition the server maintains.
    likes_received = (
        SELECT count(*) FROM reputation_event e
        WHERE e.person_id = r.person_id AND e.reverses IS NULL AND NOT e.reversed
          AND e.cause IN ('answer_liked', 'question_liked', 'idea_liked', 'other_liked'));
