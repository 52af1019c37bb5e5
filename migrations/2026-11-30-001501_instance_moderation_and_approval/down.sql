CREATE OR REPLACE FUNCTION member_stats_posts() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP TABLE held_activity;
DROP INDEX post_pending_approval;
ALTER TABLE post DROP COLUMN approval, DROP COLUMN approval_reason;
DROP TABLE group_approval;
ALTER TABLE instance DROP COLUMN allowed, DROP COLUMN limited;
DROP TABLE instance_ban;
