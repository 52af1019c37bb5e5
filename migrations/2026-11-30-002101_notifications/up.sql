-- In-app notifications (issue 16): written by the use case that causes them, in its own
-- transaction, so the API, the inbox and the web pages notify alike.
CREATE TABLE notification (
    id bigserial PRIMARY KEY,
    recipient_id bigint NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    kind text NOT NULL CONSTRAINT notification_kind CHECK (kind IN (
        'reply', 'answer_accepted', 'like', 'idea_status', 'badge_awarded', 'join_request',
        'moderation', 'accept_reminder')),
    -- The latest person who acted (null: the instance, e.g. a reminder), and every person
    -- who did for a grouped kind (likes: "N people liked it" counts them once each).
    actor_id bigint REFERENCES person (id) ON DELETE SET NULL,
    actor_ids bigint[] NOT NULL DEFAULT '{}',
    -- What it is about; a post or comment that goes takes its notifications with it.
    post_id bigint REFERENCES post (id) ON DELETE CASCADE,
    comment_id bigint REFERENCES comment (id) ON DELETE CASCADE,
    group_id bigint REFERENCES community_group (id) ON DELETE CASCADE,
    badge_id bigint REFERENCES badge (id) ON DELETE CASCADE,
    -- What changed, in a stable word: an idea's new status, approved/declined, removed/
    -- restored/resolved/dismissed.
    detail text CONSTRAINT notification_detail_length CHECK (char_length(detail) <= 64),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz
);

CREATE INDEX notification_by_recipient ON notification (recipient_id, id DESC);
CREATE INDEX notification_unread ON notification (recipient_id) WHERE read_at IS NULL;
-- One unread row per liked object: a new like folds into it (an upsert on this index).
CREATE UNIQUE INDEX notification_grouped_unread ON notification
    (recipient_id, kind, coalesce(post_id, 0), coalesce(comment_id, 0))
    WHERE read_at IS NULL AND kind = 'like';
-- One accept reminder per question, ever: the periodic job may run on several servers.
CREATE UNIQUE INDEX notification_one_accept_reminder ON notification (post_id)
    WHERE kind = 'accept_reminder';

-- How a member wants to hear of each kind (no row: in_app). `off` stops creation; the e-mail
-- values are for the mail queue (it reads this table).
CREATE TABLE notification_preference (
    person_id bigint NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    kind text NOT NULL,
    delivery text NOT NULL CONSTRAINT notification_preference_delivery CHECK (delivery IN (
        'in_app', 'email_immediate', 'email_daily', 'email_weekly', 'off')),
    PRIMARY KEY (person_id, kind)
);
