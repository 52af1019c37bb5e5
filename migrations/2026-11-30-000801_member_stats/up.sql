-- Member statistics for community managers (issue 12): what each member did per group, per tag
-- and per day, kept by triggers on the rows that record it (posts, comments, acceptances,
-- votes, views) in the statement that writes them, hence in the action's transaction — as the
-- leaderboard rollups are. Reading a member over a period, or a topic's shortlist, sums days
-- instead of walking the content.
--
-- A row's `tag` is '' for everything the member did in the group, else one of the tags the
-- post carried when the event happened (a post's later re-tagging does not move history).
-- Days are UTC days.

-- Each contribution's mood in [-1, 1] (cenacle_domain::sentiment in the post's language),
-- written with the text when it is created or edited. NULL for rows from before.
ALTER TABLE post ADD COLUMN sentiment REAL;
ALTER TABLE comment ADD COLUMN sentiment REAL;
-- The contributions of a member in time order, for their mood trend.
CREATE INDEX post_author_time_idx ON post (author_id, created_at) WHERE deleted_at IS NULL;
CREATE INDEX comment_author_time_idx ON comment (author_id, created_at) WHERE deleted_at IS NULL;

CREATE TABLE member_stats_day (
    tag              TEXT NOT NULL,
    day              DATE NOT NULL,
    group_id         BIGINT NOT NULL REFERENCES community_group (id) ON DELETE CASCADE,
    person_id        BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    -- Questions and notes; ideas apart.
    threads          INT NOT NULL DEFAULT 0,
    ideas            INT NOT NULL DEFAULT 0,
    -- Answers and replies (comments).
    replies          INT NOT NULL DEFAULT 0,
    -- Their answers accepted (by someone else than themselves), on the answer's day.
    accepted         INT NOT NULL DEFAULT 0,
    -- Likes received on their posts and comments, each its recorded weight (vote.weight: the
    -- liker's instance weight when cast, 0 when it does not count), on the vote's day.
    likes            DOUBLE PRECISION NOT NULL DEFAULT 0,
    -- Views of their posts (one per viewer per post per day).
    views            BIGINT NOT NULL DEFAULT 0,
    -- Questions they were the first to answer, and the seconds those questions waited.
    first_replies    INT NOT NULL DEFAULT 0,
    first_reply_secs BIGINT NOT NULL DEFAULT 0,
    -- The distinct askers they answered that day, sorted: the exact set of people helped over
    -- any period is the union of its days (a few ids a day; no estimate).
    helped           BIGINT[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (tag, day, group_id, person_id)
);
CREATE INDEX member_stats_day_person_idx ON member_stats_day (person_id, day);
CREATE INDEX member_stats_day_group_idx ON member_stats_day (group_id, tag, day);

-- The answers accepted per topic and day, all members together: a member's share of their
-- group's (or tag's) accepted answers reads a few rows instead of every member's. Written only
-- by acceptances, which are rare: the shared row is not a point of contention.
CREATE TABLE topic_stats_day (
    tag      TEXT NOT NULL,
    day      DATE NOT NULL,
    group_id BIGINT NOT NULL REFERENCES community_group (id) ON DELETE CASCADE,
    accepted INT NOT NULL DEFAULT 0,
    PRIMARY KEY (tag, day, group_id)
);
CREATE INDEX topic_stats_day_group_idx ON topic_stats_day (group_id, tag, day);

-- One change to the statistics: counted for the group ('' tag) and each of `tags`.
CREATE TYPE member_stats_delta AS (
    person_id BIGINT, group_id BIGINT, tags TEXT[], day DATE,
    threads INT, ideas INT, replies INT, accepted INT, likes DOUBLE PRECISION, views BIGINT,
    first_replies INT, first_reply_secs BIGINT, helped BIGINT
);

-- Adds changes to the rollups, in key order (two statements never wait on each other's rows in
-- opposite orders). The one writer of member_stats_day: every trigger below calls it.
CREATE FUNCTION member_stats_add(changes member_stats_delta[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO member_stats_day AS m (tag, day, group_id, person_id, threads, ideas, replies,
        accepted, likes, views, first_replies, first_reply_secs, helped)
    SELECT t.tag, c.day, c.group_id, c.person_id, SUM(c.threads), SUM(c.ideas), SUM(c.replies),
           SUM(c.accepted), SUM(c.likes), SUM(c.views), SUM(c.first_replies), SUM(c.first_reply_secs),
           COALESCE(array_agg(DISTINCT c.helped ORDER BY c.helped) FILTER (WHERE c.helped IS NOT NULL), '{}')
    FROM unnest(changes) AS c
    CROSS JOIN LATERAL (SELECT DISTINCT x FROM unnest(array_prepend('', c.tags)) AS u (x)) AS t (tag)
    WHERE c.person_id IS NOT NULL AND c.group_id IS NOT NULL
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (tag, day, group_id, person_id) DO UPDATE SET
        threads = m.threads + EXCLUDED.threads,
        ideas = m.ideas + EXCLUDED.ideas,
        replies = m.replies + EXCLUDED.replies,
        accepted = m.accepted + EXCLUDED.accepted,
        likes = m.likes + EXCLUDED.likes,
        views = m.views + EXCLUDED.views,
        first_replies = m.first_replies + EXCLUDED.first_replies,
        first_reply_secs = m.first_reply_secs + EXCLUDED.first_reply_secs,
        helped = CASE WHEN EXCLUDED.helped = '{}' THEN m.helped
                      ELSE ARRAY(SELECT DISTINCT h FROM unnest(m.helped || EXCLUDED.helped) AS h ORDER BY h) END;
    INSERT INTO topic_stats_day AS s (tag, day, group_id, accepted)
    SELECT t.tag, c.day, c.group_id, SUM(c.accepted)
    FROM unnest(changes) AS c
    CROSS JOIN LATERAL (SELECT DISTINCT x FROM unnest(array_prepend('', c.tags)) AS u (x)) AS t (tag)
    WHERE c.person_id IS NOT NULL AND c.group_id IS NOT NULL AND c.accepted <> 0
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (tag, day, group_id) DO UPDATE SET accepted = s.accepted + EXCLUDED.accepted;
$$;

CREATE FUNCTION utc_day(t TIMESTAMPTZ) RETURNS DATE LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (t AT TIME ZONE 'UTC')::date;

-- Posts: a thread or an idea when written, taken back when deleted; an acceptance counted
-- for the answer's author (not when they accepted it themselves), taken back when cleared.
CREATE FUNCTION member_stats_posts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM member_stats_add(ARRAY(
            SELECT ROW(p.author_id, p.group_id, p.tags, utc_day(p.created_at),
                       (p.kind <> 'idea')::int, (p.kind = 'idea')::int, 0, 0, 0, 0, 0, 0, NULL)::member_stats_delta
            FROM new_rows p WHERE p.deleted_at IS NULL));
        PERFORM member_stats_add(ARRAY(
            SELECT ROW(c.author_id, p.group_id, p.tags, utc_day(c.created_at), 0, 0, 0, 1, 0, 0, 0, 0, NULL)::member_stats_delta
            FROM new_rows p JOIN comment c ON c.id = p.accepted_comment_id
            WHERE p.deleted_at IS NULL AND c.author_id IS DISTINCT FROM p.accepted_by));
        RETURN NULL;
    END IF;
    PERFORM member_stats_add(ARRAY(
        SELECT ROW(n.author_id, n.group_id, n.tags, utc_day(n.created_at),
                   -(n.kind <> 'idea')::int, -(n.kind = 'idea')::int, 0, 0, 0, 0, 0, 0, NULL)::member_stats_delta
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE o.deleted_at IS NULL AND n.deleted_at IS NOT NULL));
    PERFORM member_stats_add(ARRAY(
        SELECT ROW(c.author_id, n.group_id, n.tags, utc_day(c.created_at), 0, 0, 0, a.delta, 0, 0, 0, 0, NULL)::member_stats_delta
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        CROSS JOIN LATERAL (VALUES (o.accepted_comment_id, o.accepted_by, -1, o.deleted_at),
                                   (n.accepted_comment_id, n.accepted_by, 1, n.deleted_at)) AS a (comment_id, accepted_by, delta, deleted_at)
        JOIN comment c ON c.id = a.comment_id
        WHERE (o.accepted_comment_id IS DISTINCT FROM n.accepted_comment_id
               OR o.accepted_by IS DISTINCT FROM n.accepted_by
               OR (o.deleted_at IS NULL) <> (n.deleted_at IS NULL))
          AND a.deleted_at IS NULL AND c.author_id IS DISTINCT FROM a.accepted_by));
    RETURN NULL;
END;
$$;
CREATE TRIGGER member_stats_post_insert AFTER INSERT ON post
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION member_stats_posts();
CREATE TRIGGER member_stats_post_update AFTER UPDATE ON post
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION member_stats_posts();

-- Comments: a reply when written (taken back when deleted); on a question, an answer by
-- someone else than the asker helps the asker, and the first such answer records how long
-- the question waited.
CREATE FUNCTION member_stats_comments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM member_stats_add(ARRAY(
            SELECT ROW(c.author_id, p.group_id, p.tags, utc_day(c.created_at), 0, 0, 1, 0, 0, 0,
                       first.is_first::int,
                       CASE WHEN first.is_first THEN GREATEST(0, extract(epoch FROM c.created_at - p.created_at))::bigint ELSE 0 END,
                       CASE WHEN answer THEN p.author_id END)::member_stats_delta
            FROM new_rows c JOIN post p ON p.id = c.post_id
            CROSS JOIN LATERAL (SELECT p.kind = 'question' AND c.author_id <> p.author_id AS answer) AS a
            CROSS JOIN LATERAL (SELECT a.answer AND NOT EXISTS (
                SELECT 1 FROM comment e WHERE e.post_id = c.post_id AND e.author_id <> p.author_id
                  AND (e.created_at, e.id) < (c.created_at, c.id)) AS is_first) AS first
            WHERE c.deleted_at IS NULL AND p.deleted_at IS NULL));
        RETURN NULL;
    END IF;
    PERFORM member_stats_add(ARRAY(
        SELECT ROW(n.author_id, p.group_id, p.tags, utc_day(n.created_at), 0, 0, -1, 0, 0, 0, 0, 0, NULL)::member_stats_delta
        FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN post p ON p.id = n.post_id
        WHERE o.deleted_at IS NULL AND n.deleted_at IS NOT NULL));
    RETURN NULL;
END;
$$;
CREATE TRIGGER member_stats_comment_insert AFTER INSERT ON comment
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION member_stats_comments();
CREATE TRIGGER member_stats_comment_update AFTER UPDATE ON comment
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION member_stats_comments();

-- Votes: what a like counts (its weight while it is a counted like), for the author of what
-- it likes, on the vote's day; a change takes the old row's count back and adds the new one's.
-- Two functions, as each event has its own transition tables.
CREATE FUNCTION member_stats_votes_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM member_stats_add(ARRAY(
        SELECT ROW(COALESCE(c.author_id, p.author_id), p.group_id, p.tags, utc_day(n.created_at),
                   0, 0, 0, 0, n.weight, 0, 0, 0, NULL)::member_stats_delta
        FROM new_rows n LEFT JOIN comment c ON c.id = n.comment_id
        JOIN post p ON p.id = COALESCE(n.post_id, c.post_id)
        WHERE n.value = 1 AND n.counted AND n.weight <> 0));
    RETURN NULL;
END;
$$;
CREATE FUNCTION member_stats_votes_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM member_stats_add(ARRAY(
            SELECT ROW(COALESCE(c.author_id, p.author_id), p.group_id, p.tags, utc_day(n.created_at),
                       0, 0, 0, 0, n.weight, 0, 0, 0, NULL)::member_stats_delta
            FROM new_rows n LEFT JOIN comment c ON c.id = n.comment_id
            JOIN post p ON p.id = COALESCE(n.post_id, c.post_id)
            WHERE n.value = 1 AND n.counted AND n.weight <> 0));
    END IF;
    PERFORM member_stats_add(ARRAY(
        SELECT ROW(COALESCE(c.author_id, p.author_id), p.group_id, p.tags, utc_day(o.created_at),
                   0, 0, 0, 0, -o.weight, 0, 0, 0, NULL)::member_stats_delta
        FROM old_rows o LEFT JOIN comment c ON c.id = o.comment_id
        JOIN post p ON p.id = COALESCE(o.post_id, c.post_id)
        WHERE o.value = 1 AND o.counted AND o.weight <> 0));
    RETURN NULL;
END;
$$;
CREATE TRIGGER member_stats_vote_insert AFTER INSERT ON vote
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION member_stats_votes_insert();
CREATE TRIGGER member_stats_vote_update AFTER UPDATE ON vote
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION member_stats_votes_change();
CREATE TRIGGER member_stats_vote_delete AFTER DELETE ON vote
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION member_stats_votes_change();

-- Post views: one row per viewer, post and day, only while the day lasts (the rows of past
-- days are deleted when the day's salt is made). `viewer` is the person's id for a signed-in
-- viewer, else sha256(the day's salt, client address, user agent): with the salt gone the
-- next day, nothing links a row to anyone.
CREATE TABLE post_view (
    day     DATE NOT NULL,
    post_id BIGINT NOT NULL REFERENCES post (id) ON DELETE CASCADE,
    viewer  BYTEA NOT NULL,
    PRIMARY KEY (day, post_id, viewer)
);
-- One random salt per UTC day; yesterday's is deleted with the views it salted.
CREATE TABLE view_salt (
    day  DATE PRIMARY KEY,
    salt TEXT NOT NULL
);

CREATE FUNCTION member_stats_views() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM member_stats_add(ARRAY(
        SELECT ROW(p.author_id, p.group_id, p.tags, v.day, 0, 0, 0, 0, 0, v.n, 0, 0, NULL)::member_stats_delta
        FROM (SELECT post_id, day, count(*) AS n FROM new_rows GROUP BY 1, 2) v
        JOIN post p ON p.id = v.post_id));
    RETURN NULL;
END;
$$;
CREATE TRIGGER member_stats_view_insert AFTER INSERT ON post_view
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION member_stats_views();

-- The statistics of the content as it stands (views and first-reply times start now).
SELECT member_stats_add(ARRAY(
    SELECT ROW(p.author_id, p.group_id, p.tags, utc_day(p.created_at),
               (p.kind <> 'idea')::int, (p.kind = 'idea')::int, 0, 0, 0, 0, 0, 0, NULL)::member_stats_delta
    FROM post p WHERE p.deleted_at IS NULL));
SELECT member_stats_add(ARRAY(
    SELECT ROW(c.author_id, p.group_id, p.tags, utc_day(c.created_at), 0, 0, 1,
               (p.accepted_comment_id = c.id AND c.author_id IS DISTINCT FROM p.accepted_by)::int, 0, 0, 0, 0,
               CASE WHEN p.kind = 'question' AND c.author_id <> p.author_id THEN p.author_id END)::member_stats_delta
    FROM comment c JOIN post p ON p.id = c.post_id
    WHERE c.deleted_at IS NULL AND p.deleted_at IS NULL));
SELECT member_stats_add(ARRAY(
    SELECT ROW(COALESCE(c.author_id, p.author_id), p.group_id, p.tags, utc_day(v.created_at),
               0, 0, 0, 0, v.weight, 0, 0, 0, NULL)::member_stats_delta
    FROM vote v LEFT JOIN comment c ON c.id = v.comment_id
    JOIN post p ON p.id = COALESCE(v.post_id, c.post_id)
    WHERE v.value = 1 AND v.counted));
