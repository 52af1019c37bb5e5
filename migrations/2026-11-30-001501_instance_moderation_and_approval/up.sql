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
