-- Group settings, star ratings, full-text search, groups on demand, join requests and
-- invitations.

ALTER TABLE community_group
    ADD COLUMN rules            TEXT NOT NULL DEFAULT '',
    ADD COLUMN tags             TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN avatar_url       TEXT,
    ADD COLUMN banner_url       TEXT,
    ADD COLUMN dislikes_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    ADD COLUMN archived_at      TIMESTAMPTZ;

-- 1–5 stars on ideas and notes, one per person; the post keeps the sum and count.
CREATE TABLE post_rating (
    post_id    BIGINT NOT NULL REFERENCES post (id) ON DELETE CASCADE,
    person_id  BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    stars      SMALLINT NOT NULL CONSTRAINT post_rating_stars_check CHECK (stars BETWEEN 1 AND 5),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, person_id)
);
ALTER TABLE post
    ADD COLUMN rating_sum   INT NOT NULL DEFAULT 0,
    ADD COLUMN rating_count INT NOT NULL DEFAULT 0;

-- Full-text search in each post's language (titles weigh more than bodies).
ALTER TABLE post ADD COLUMN search tsvector GENERATED ALWAYS AS (
    CASE language
        WHEN 'fr' THEN setweight(to_tsvector('french', title), 'A') || setweight(to_tsvector('french', body), 'B')
        ELSE setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')
    END) STORED;
CREATE INDEX post_search_idx ON post USING gin (search);
ALTER TABLE comment ADD COLUMN language TEXT NOT NULL DEFAULT 'en'
    CONSTRAINT comment_language_check CHECK (language IN ('fr', 'en'));
ALTER TABLE comment ADD COLUMN search tsvector GENERATED ALWAYS AS (
    CASE language WHEN 'fr' THEN to_tsvector('french', body) ELSE to_tsvector('english', body) END) STORED;
CREATE INDEX comment_search_idx ON comment USING gin (search);

-- Groups grown from demand: a member proposes, others back it; at the threshold it becomes a
-- group (or a community manager decides earlier).
CREATE TABLE group_proposal (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL,
    title       TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    proposer_id BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    status      TEXT NOT NULL DEFAULT 'open'
        CONSTRAINT group_proposal_status_check CHECK (status IN ('open', 'created', 'declined')),
    group_id    BIGINT REFERENCES community_group (id) ON DELETE SET NULL,
    decided_by  BIGINT REFERENCES person (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    decided_at  TIMESTAMPTZ
);
CREATE UNIQUE INDEX group_proposal_open_name_key ON group_proposal (name) WHERE status = 'open';

CREATE TABLE group_proposal_backer (
    proposal_id BIGINT NOT NULL REFERENCES group_proposal (id) ON DELETE CASCADE,
    person_id   BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (proposal_id, person_id)
);

-- Asking to join a group that approves its members, and being invited to one.
CREATE TABLE group_join_request (
    group_id   BIGINT NOT NULL REFERENCES community_group (id) ON DELETE CASCADE,
    person_id  BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    message    TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, person_id)
);

CREATE TABLE group_invitation (
    group_id   BIGINT NOT NULL REFERENCES community_group (id) ON DELETE CASCADE,
    person_id  BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    invited_by BIGINT REFERENCES person (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, person_id)
);
