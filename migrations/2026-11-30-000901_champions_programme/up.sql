-- The champions (superuser) programme as a lifecycle: nomination, invitation, charter,
-- active champion, objectives, annual renewal, exit. Every step leaves a row in
-- champion_audit (who, when, why, what).

-- A group that exists on this instance only: no actor served to other servers, no follow
-- accepted, no outbox event (the programme's private champions group).
ALTER TABLE community_group ADD COLUMN local_only BOOLEAN NOT NULL DEFAULT FALSE;

-- When the current accepted answer was accepted: the share of solutions given by champions
-- counts an answer by whether its author was an active champion at that moment. Older
-- acceptances get their post's last update, the closest time known.
ALTER TABLE post ADD COLUMN accepted_at TIMESTAMPTZ;
UPDATE post SET accepted_at = updated_at WHERE accepted_comment_id IS NOT NULL;
CREATE INDEX post_accepted_at_idx ON post (accepted_at) WHERE accepted_comment_id IS NOT NULL;

-- The honorific Superuser badge becomes the programme's badge: awarded when a member becomes
-- an active champion, revoked at exit (same slug, so earlier awards keep their meaning).
UPDATE badge SET name_en = 'Champion', name_fr = 'Champion',
    description_en = 'Active member of the champions programme',
    description_fr = 'Membre actif du programme des champions'
WHERE slug = 'superuser';

-- The charter, versioned; the highest version is the current one.
CREATE TABLE champion_charter (
    version      INT PRIMARY KEY CONSTRAINT champion_charter_version_check CHECK (version > 0),
    text_en      TEXT NOT NULL,
    text_fr      TEXT NOT NULL,
    published_by BIGINT REFERENCES person (id) ON DELETE SET NULL,
    published_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per person who was ever nominated; `status` is where they are in the lifecycle.
CREATE TABLE champion (
    person_id           BIGINT PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    status              TEXT NOT NULL CONSTRAINT champion_status_check
        CHECK (status IN ('invited', 'declined', 'pending_charter', 'active', 'exited')),
    title               TEXT,
    nominated_by        BIGINT REFERENCES person (id) ON DELETE SET NULL,
    nominated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The last charter version they accepted, and when.
    charter_version     INT REFERENCES champion_charter (version),
    charter_accepted_at TIMESTAMPTZ,
    active_since        TIMESTAMPTZ,
    renewal_due         TIMESTAMPTZ,
    exit_reason         TEXT,
    exited_at           TIMESTAMPTZ
);

-- Every charter version a person accepted, with when.
CREATE TABLE champion_charter_acceptance (
    person_id   BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    version     INT NOT NULL REFERENCES champion_charter (version),
    accepted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, version)
);

-- The periods someone was an active champion ([started_at, ended_at)): what "a champion at
-- acceptance time" is read from.
CREATE TABLE champion_term (
    id         BIGSERIAL PRIMARY KEY,
    person_id  BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ended_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX champion_term_open_key ON champion_term (person_id) WHERE ended_at IS NULL;

-- The groups a champion champions (their tools work there), since when.
CREATE TABLE champion_group (
    person_id BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    group_id  BIGINT NOT NULL REFERENCES community_group (id) ON DELETE CASCADE,
    since     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, group_id)
);

-- Objectives per champion, e.g. ten answers a month.
CREATE TABLE champion_objective (
    id         BIGSERIAL PRIMARY KEY,
    person_id  BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    metric     TEXT NOT NULL CONSTRAINT champion_objective_metric_check
        CHECK (metric IN ('answers_per_month', 'accepted_answers_per_month')),
    target     INT NOT NULL CONSTRAINT champion_objective_target_check CHECK (target >= 0),
    set_by     BIGINT REFERENCES person (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT champion_objective_metric_key UNIQUE (person_id, metric)
);

-- Messages community managers broadcast to the champions first.
CREATE TABLE champion_notice (
    id         BIGSERIAL PRIMARY KEY,
    author_id  BIGINT REFERENCES person (id) ON DELETE SET NULL,
    body       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The audit trail: every step of the programme, by whom, when, why and what.
CREATE TABLE champion_audit (
    id         BIGSERIAL PRIMARY KEY,
    person_id  BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    actor_id   BIGINT REFERENCES person (id) ON DELETE SET NULL,
    action     TEXT NOT NULL,
    reason     TEXT,
    detail     TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX champion_audit_person_idx ON champion_audit (person_id, id);

-- What another Cénacle instance says of its member (`cenacle:champion` on their Person
-- actor): the groups they champion there, since when. Shown on the remote person, read-only.
CREATE TABLE remote_champion_group (
    person_id   BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    group_ap_id TEXT NOT NULL,
    since       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (person_id, group_ap_id)
);
