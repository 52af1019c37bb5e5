-- Instance moderation (bans of people, allow-list, limited instances) and per-group approval
-- of posts (issue 13, items 4 and 6).

-- An instance-wide ban of a local or remote person; no row (or an expired one) = not banned.
CREATE TABLE instance_ban (
    person_id bigint PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    reason text NOT NULL DEFAULT '',
    expires_at timestamptz,
    banned_by bigint REFERENCES person (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- allowed: listed for allow-list mode (federation.allow_list_only); limited: its members'
-- posts in our groups wait for a moderator's approval.
ALTER TABLE instance
    ADD COLUMN allowed boolean NOT NULL DEFAULT false,
    ADD COLUMN limited boolean NOT NULL DEFAULT false;

-- A group's approval settings; no row = approval off.
CREATE TABLE group_approval (
    group_id bigint PRIMARY KEY REFERENCES community_group (id) ON DELETE CASCADE,
    enabled boolean NOT NULL DEFAULT false,
    -- A member's first this many posts in the group wait.
    first_posts integer NOT NULL DEFAULT 0 CONSTRAINT group_approval_first_posts_range
        CHECK (first_posts BETWEEN 0 AND 1000),
    -- Posts of members below this reputation wait.
    min_reputation bigint NOT NULL DEFAULT 0 CONSTRAINT group_approval_min_reputation_range
        CHECK (min_reputation >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- NULL: published. 'pending': waits in its group's approval queue (seen only by its author
-- and the group's moderators, not federated, not counted). 'rejected': never published.
ALTER TABLE post
    ADD COLUMN approval text CONSTRAINT post_approval_state CHECK (approval IN ('pending', 'rejected')),
    ADD COLUMN approval_reason text;
CREATE INDEX post_pending_approval ON post (group_id, id) WHERE approval = 'pending';

-- The activity that brought a remote member's held post, relayed unchanged once approved
-- (peers check that a Create comes from its author's server: we cannot write a new one).
CREATE TABLE held_activity (
    post_id bigint PRIMARY KEY REFERENCES post (id) ON DELETE CASCADE,
    activity text NOT NULL
);

-- Members' statistics count a post once it is published: a held post when approved, a
-- rejected one never (the same function as before, with `approval` in its conditions).
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
