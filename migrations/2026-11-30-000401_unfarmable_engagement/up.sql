-- Engagement nobody can farm: every reward reversible with its cause, for points as for
-- reputation; each reward row names the content it came from, so that content that goes takes
-- its rewards with it; content points capped per day and paid once per piece of content;
-- votes that count for nothing marked so; idempotent admin requests.

-- Points become reversible like reputation events: one live row per key, a reversal row that
-- offsets it. A row paid "once" (content) keeps its key taken after it is reversed: writing the
-- same content again pays nothing more.
ALTER TABLE points_ledger
    ADD COLUMN reverses   BIGINT REFERENCES points_ledger (id) ON DELETE CASCADE,
    ADD COLUMN reversed   BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN once       BOOLEAN NOT NULL DEFAULT FALSE,
    -- Counts toward the daily cap on points from content and votes.
    ADD COLUMN capped     BOOLEAN NOT NULL DEFAULT FALSE,
    -- The thread (and comment) the reward came from, if any.
    ADD COLUMN post_id    BIGINT,
    ADD COLUMN comment_id BIGINT;
ALTER TABLE points_ledger DROP CONSTRAINT points_ledger_source_key;
CREATE UNIQUE INDEX points_ledger_live_key ON points_ledger (source_key)
    WHERE reverses IS NULL AND (NOT reversed OR once);
CREATE INDEX points_ledger_content_idx ON points_ledger (post_id, person_id)
    WHERE post_id IS NOT NULL AND reverses IS NULL AND NOT reversed;

-- What capped causes paid today, beside the balance (as for reputation).
ALTER TABLE points_balance
    ADD COLUMN capped_day   DATE,
    ADD COLUMN capped_today BIGINT NOT NULL DEFAULT 0;

ALTER TABLE reputation_event
    ADD COLUMN post_id    BIGINT,
    ADD COLUMN comment_id BIGINT;
CREATE INDEX reputation_event_content_idx ON reputation_event (post_id, person_id)
    WHERE post_id IS NOT NULL AND reverses IS NULL AND NOT reversed;

-- The content of existing rows, read from their keys ("like:comment:12:by:7",
-- "points:reply:12", "accepted:comment:12", "points:post:3", …).
UPDATE reputation_event SET comment_id = (regexp_match(source_key, '(?:^|:)comment:(\d+)'))[1]::bigint
    WHERE source_key ~ '(^|:)comment:\d+';
UPDATE points_ledger SET comment_id = (regexp_match(source_key, '(?:^|:)(?:comment|reply):(\d+)'))[1]::bigint
    WHERE source_key ~ '(^|:)(comment|reply):\d+';
UPDATE reputation_event e SET post_id = c.post_id FROM comment c WHERE c.id = e.comment_id;
UPDATE points_ledger l SET post_id = c.post_id FROM comment c WHERE c.id = l.comment_id;
UPDATE reputation_event SET post_id = (regexp_match(source_key, '(?:^|:)post:(\d+)'))[1]::bigint
    WHERE comment_id IS NULL AND source_key ~ '(^|:)post:\d+';
UPDATE points_ledger SET post_id = (regexp_match(source_key, '(?:^|:)post:(\d+)'))[1]::bigint
    WHERE comment_id IS NULL AND source_key ~ '(^|:)post:\d+';
UPDATE points_ledger SET once = TRUE WHERE reason IN ('new_post', 'reply');
UPDATE points_ledger SET capped = TRUE WHERE reason IN ('new_post', 'reply', 'like_given', 'like_received');
UPDATE points_balance b SET
    capped_day = (now() AT TIME ZONE 'UTC')::date,
    capped_today = COALESCE((
        SELECT SUM(l.delta) FROM points_ledger l
        WHERE l.person_id = b.person_id AND l.capped
          AND l.created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'), 0);

-- Whether a vote counts in scores (bounties): not on one's own content, not with weight 0,
-- not from an instance blocked since.
ALTER TABLE vote ADD COLUMN counted BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE vote v SET counted = FALSE FROM post p
    WHERE v.post_id = p.id AND p.author_id = v.person_id;
UPDATE vote v SET counted = FALSE FROM comment c
    WHERE v.comment_id = c.id AND c.author_id = v.person_id;
UPDATE vote v SET counted = FALSE FROM person p JOIN instance i ON i.host = p.instance_host
    WHERE v.person_id = p.id AND NOT p.local AND (i.blocked OR i.reputation_weight = 0);

-- Requests a client may retry safely (`Idempotency-Key`): the first answer is kept and given
-- again for the same key and body; another body with the same key is refused.
CREATE TABLE idempotent_request (
    actor_id     BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    action       TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    -- JSON, written in the same transaction as the action.
    response     TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (actor_id, key)
);
