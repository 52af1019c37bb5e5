-- The moderation log: one row per moderation action (by a moderator of a group, an admin of
-- the instance, or the instance itself), whoever took it and from wherever it came (the API,
-- or an activity of another server: `ap_id` then makes a replay record nothing twice).
-- It is public (issue: moderation log), so it keeps only what may be shown: codes, targets,
-- the reason given; rows are never updated.
CREATE TABLE moderation_action (
    id BIGSERIAL PRIMARY KEY,
    -- NULL: an instance-wide action (instance ban, instance block…).
    group_id BIGINT REFERENCES community_group (id) ON DELETE CASCADE,
    -- NULL: the instance itself (an expiry, an automatic rule).
    moderator_id BIGINT REFERENCES person (id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    target_person_id BIGINT REFERENCES person (id) ON DELETE SET NULL,
    target_post_id BIGINT REFERENCES post (id) ON DELETE SET NULL,
    target_comment_id BIGINT REFERENCES comment (id) ON DELETE SET NULL,
    target_instance TEXT,
    reason TEXT NOT NULL DEFAULT '',
    expires_at TIMESTAMPTZ,
    ap_id TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT moderation_action_ap_id_key UNIQUE (ap_id),
    CONSTRAINT moderation_action_reason_length CHECK (char_length(reason) <= 2000)
);
-- Newest first, per group and instance-wide.
CREATE INDEX moderation_action_group_idx ON moderation_action (group_id, id DESC);
CREATE INDEX moderation_action_instance_idx ON moderation_action (id DESC) WHERE group_id IS NULL;

-- A moderator's removal, apart from the author's own delete (`deleted_at`): it can be undone
-- (restore) and shows its reason to the author and the moderators.
ALTER TABLE post
    ADD COLUMN removed_at TIMESTAMPTZ,
    ADD COLUMN removal_reason TEXT;
ALTER TABLE comment
    ADD COLUMN removed_at TIMESTAMPTZ,
    ADD COLUMN removal_reason TEXT;
