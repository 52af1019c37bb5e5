-- Group membership and contributions: posts (questions, ideas, notes), comments and answers,
-- votes, edit history and the idea pipeline's history.

CREATE TABLE group_membership (
    group_id   BIGINT NOT NULL REFERENCES community_group (id) ON DELETE CASCADE,
    person_id  BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    role       TEXT NOT NULL DEFAULT 'member'
        CONSTRAINT group_membership_role_check CHECK (role IN ('member', 'moderator', 'owner')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, person_id)
);
CREATE INDEX group_membership_person_idx ON group_membership (person_id);

CREATE TABLE post (
    id                  BIGSERIAL PRIMARY KEY,
    group_id            BIGINT NOT NULL REFERENCES community_group (id) ON DELETE CASCADE,
    author_id           BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    kind                TEXT NOT NULL CONSTRAINT post_kind_check CHECK (kind IN ('question', 'idea', 'note')),
    title               TEXT NOT NULL,
    body                TEXT NOT NULL DEFAULT '',
    language            TEXT NOT NULL DEFAULT 'en' CONSTRAINT post_language_check CHECK (language IN ('fr', 'en')),
    tags                TEXT[] NOT NULL DEFAULT '{}',
    idea_status         TEXT CONSTRAINT post_idea_status_check CHECK (idea_status IN
        ('submitted', 'under_review', 'planned', 'in_progress', 'done', 'declined', 'duplicate')),
    duplicate_of        BIGINT REFERENCES post (id) ON DELETE SET NULL,
    accepted_comment_id BIGINT,
    locked              BOOLEAN NOT NULL DEFAULT FALSE,
    pinned              BOOLEAN NOT NULL DEFAULT FALSE,
    -- Counters kept in the same transaction as the votes and comments that change them.
    likes               INT NOT NULL DEFAULT 0 CONSTRAINT post_likes_check CHECK (likes >= 0),
    dislikes            INT NOT NULL DEFAULT 0 CONSTRAINT post_dislikes_check CHECK (dislikes >= 0),
    comment_count       INT NOT NULL DEFAULT 0,
    ap_id               TEXT NOT NULL CONSTRAINT post_ap_id_key UNIQUE,
    local               BOOLEAN NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_activity_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at          TIMESTAMPTZ,
    CONSTRAINT post_idea_status_for_ideas CHECK ((kind = 'idea') = (idea_status IS NOT NULL))
);
CREATE INDEX post_group_new_idx ON post (group_id, created_at DESC) WHERE deleted_at IS NULL;

CREATE TABLE comment (
    id          BIGSERIAL PRIMARY KEY,
    post_id     BIGINT NOT NULL REFERENCES post (id) ON DELETE CASCADE,
    parent_id   BIGINT REFERENCES comment (id) ON DELETE CASCADE,
    author_id   BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    depth       INT NOT NULL DEFAULT 0,
    likes       INT NOT NULL DEFAULT 0 CONSTRAINT comment_likes_check CHECK (likes >= 0),
    dislikes    INT NOT NULL DEFAULT 0 CONSTRAINT comment_dislikes_check CHECK (dislikes >= 0),
    ap_id       TEXT NOT NULL CONSTRAINT comment_ap_id_key UNIQUE,
    local       BOOLEAN NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at  TIMESTAMPTZ
);
CREATE INDEX comment_post_idx ON comment (post_id, created_at);

ALTER TABLE post ADD CONSTRAINT post_accepted_comment_fkey
    FOREIGN KEY (accepted_comment_id) REFERENCES comment (id) ON DELETE SET NULL;

-- One vote per person and target; the latest wins.
CREATE TABLE vote (
    id          BIGSERIAL PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    post_id     BIGINT REFERENCES post (id) ON DELETE CASCADE,
    comment_id  BIGINT REFERENCES comment (id) ON DELETE CASCADE,
    value       SMALLINT NOT NULL CONSTRAINT vote_value_check CHECK (value IN (1, -1)),
    -- The Like/Dislike activity that cast it (ours or a peer's), for Undo.
    activity_id TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT vote_one_target CHECK ((post_id IS NULL) <> (comment_id IS NULL))
);
CREATE UNIQUE INDEX vote_person_post_key ON vote (person_id, post_id) WHERE post_id IS NOT NULL;
CREATE UNIQUE INDEX vote_person_comment_key ON vote (person_id, comment_id) WHERE comment_id IS NOT NULL;

CREATE TABLE post_edit (
    id        BIGSERIAL PRIMARY KEY,
    post_id   BIGINT NOT NULL REFERENCES post (id) ON DELETE CASCADE,
    editor_id BIGINT REFERENCES person (id) ON DELETE SET NULL,
    title     TEXT NOT NULL,
    body      TEXT NOT NULL,
    tags      TEXT[] NOT NULL,
    edited_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE idea_status_change (
    id           BIGSERIAL PRIMARY KEY,
    post_id      BIGINT NOT NULL REFERENCES post (id) ON DELETE CASCADE,
    changed_by   BIGINT REFERENCES person (id) ON DELETE SET NULL,
    from_status  TEXT NOT NULL,
    to_status    TEXT NOT NULL,
    comment      TEXT,
    changed_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Events may name who acted and carry what the federation side needs (a vote's value).
ALTER TABLE outbox_event ADD COLUMN actor_id BIGINT, ADD COLUMN payload TEXT;
