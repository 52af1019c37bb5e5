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
    likes_received = (
        SELECT count(*) FROM vote v
        LEFT JOIN post p ON p.id = v.post_id
        LEFT JOIN comment c ON c.id = v.comment_id
        WHERE v.value = 1 AND v.person_id <> r.person_id
          AND (p.author_id = r.person_id OR c.author_id = r.person_id));
