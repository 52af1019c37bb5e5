-- Issue 9: every vote updates its post's (or comment's) score, and the statistics' update
-- triggers ran their four (one) set queries and rollup calls on each, to find that nothing
-- they count had changed (≈1.7 ms of PostgreSQL time per like in scripts/bench-federation's
-- statement profile). They now look once at the columns they count and stop. (A column list,
-- `AFTER UPDATE OF deleted_at, …`, would not even fire them, but PostgreSQL refuses column
-- lists on triggers with transition tables.) The bodies are otherwise unchanged: those of
-- migrations 2026-11-30-001501 (posts) and 2026-11-30-000801 (comments).

CREATE OR REPLACE FUNCTION member_stats_posts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM member_stats_add(ARRAY(
            SELECT ROW(p.author_id, p.group_id, p.tags, utc_day(p.created_at),
                       (p.kind <> 'idea')::int, (p.kind = 'idea')::int, 0, 0, 0, 0, 0, 0, NULL)::member_stats_delta
            FROM new_rows p WHERE p.deleted_at IS NULL AND p.approval IS NULL));
        PERFORM member_stats_add(ARRAY(
            SELECT ROW(c.author_id, p.group_id, p.tags, utc_day(c.created_at), 0, 0, 0, 1, 0, 0, 0, 0, NULL)::member_stats_delta
            FROM new_rows p JOIN comment c ON c.id = p.accepted_comment_id
            WHERE p.deleted_at IS NULL AND c.author_id IS DISTINCT FROM p.accepted_by));
        RETURN NULL;
    END IF;
    -- Every vote updates its post's score: an update that changes none of what is counted
    -- (deletion, approval, acceptance) is done with one look instead of four.
    IF NOT EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
                   WHERE o.deleted_at IS DISTINCT FROM n.deleted_at
                      OR o.approval IS DISTINCT FROM n.approval
                      OR o.accepted_comment_id IS DISTINCT FROM n.accepted_comment_id
                      OR o.accepted_by IS DISTINCT FROM n.accepted_by) THEN
        RETURN NULL;
    END IF;
    PERFORM member_stats_add(ARRAY(
        SELECT ROW(n.author_id, n.group_id, n.tags, utc_day(n.created_at),
                   -(n.kind <> 'idea')::int, -(n.kind = 'idea')::int, 0, 0, 0, 0, 0, 0, NULL)::member_stats_delta
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE o.deleted_at IS NULL AND o.approval IS NULL
          AND (n.deleted_at IS NOT NULL OR n.approval IS NOT NULL)));
    -- A held post counts once approved, on the day it is published.
    PERFORM member_stats_add(ARRAY(
        SELECT ROW(n.author_id, n.group_id, n.tags, utc_day(n.created_at),
                   (n.kind <> 'idea')::int, (n.kind = 'idea')::int, 0, 0, 0, 0, 0, 0, NULL)::member_stats_delta
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE NOT (o.deleted_at IS NULL AND o.approval IS NULL)
          AND n.deleted_at IS NULL AND n.approval IS NULL));
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

CREATE OR REPLACE FUNCTION member_stats_comments() RETURNS trigger LANGUAGE plpgsql AS $$
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
    -- Every vote updates its comment's score: only a deletion is counted.
    IF NOT EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
                   WHERE o.deleted_at IS DISTINCT FROM n.deleted_at) THEN
        RETURN NULL;
    END IF;
    PERFORM member_stats_add(ARRAY(
        SELECT ROW(n.author_id, p.group_id, p.tags, utc_day(n.created_at), 0, 0, -1, 0, 0, 0, 0, 0, NULL)::member_stats_delta
        FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN post p ON p.id = n.post_id
        WHERE o.deleted_at IS NULL AND n.deleted_at IS NOT NULL));
    RETURN NULL;
END;
$$;
