-- Federation: actor identities and keys, groups, follows, received activities, the delivery
-- queue and what we know of other instances.

-- Every person is an ActivityPub actor: local ones get an id and keys at creation, remote ones
-- are cached copies of what their server serves.
ALTER TABLE person
    ADD COLUMN ap_id TEXT,
    ADD COLUMN inbox_url TEXT,
    ADD COLUMN shared_inbox_url TEXT,
    ADD COLUMN public_key_pem TEXT,
    ADD COLUMN private_key_pem TEXT,
    ADD COLUMN instance_host TEXT,
    ADD COLUMN last_refreshed_at TIMESTAMPTZ NOT NULL DEFAULT now();
CREATE UNIQUE INDEX person_ap_id_key ON person (ap_id);

-- `group` is an SQL keyword; community_group is the group of DESIGN.md.
CREATE TABLE community_group (
    id                BIGSERIAL PRIMARY KEY,
    name              TEXT NOT NULL,
    title             TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    local             BOOLEAN NOT NULL,
    ap_id             TEXT NOT NULL CONSTRAINT community_group_ap_id_key UNIQUE,
    inbox_url         TEXT NOT NULL,
    shared_inbox_url  TEXT,
    followers_url     TEXT,
    public_key_pem    TEXT NOT NULL,
    private_key_pem   TEXT,
    instance_host     TEXT NOT NULL,
    visibility        TEXT NOT NULL DEFAULT 'public'
        CONSTRAINT community_group_visibility_check CHECK (visibility IN ('public', 'private', 'restricted')),
    created_by        BIGINT REFERENCES person (id) ON DELETE SET NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_refreshed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX community_group_local_name_key ON community_group (name) WHERE local;

-- The instance actor (an Application) that signs fetches. One row.
CREATE TABLE instance_actor (
    id              INT PRIMARY KEY DEFAULT 1 CONSTRAINT instance_actor_single_row CHECK (id = 1),
    public_key_pem  TEXT NOT NULL,
    private_key_pem TEXT NOT NULL
);

-- Who follows whom, by ActivityPub ids, whichever side is local. A local member following a
-- remote group is `pending` until the group's Accept arrives.
CREATE TABLE follow (
    target_ap_id          TEXT NOT NULL,
    follower_ap_id        TEXT NOT NULL,
    follower_inbox        TEXT NOT NULL,
    follower_shared_inbox TEXT,
    state                 TEXT NOT NULL DEFAULT 'pending'
        CONSTRAINT follow_state_check CHECK (state IN ('pending', 'accepted')),
    follow_activity_id    TEXT NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (target_ap_id, follower_ap_id)
);
CREATE INDEX follow_follower_idx ON follow (follower_ap_id);

-- Ids of activities received, so that a second copy is acknowledged and ignored.
CREATE TABLE received_activity (
    ap_id       TEXT PRIMARY KEY,
    actor_ap_id TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX received_activity_time_idx ON received_activity (received_at);

-- What we know of other servers: blocks, and delivery health.
CREATE TABLE instance (
    host            TEXT PRIMARY KEY,
    blocked         BOOLEAN NOT NULL DEFAULT FALSE,
    first_seen_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_success_at TIMESTAMPTZ,
    -- Set at the first failure after a success, cleared by the next success.
    failing_since   TIMESTAMPTZ,
    -- Failing for longer than the dead threshold: skipped but for a periodic probe.
    dead            BOOLEAN NOT NULL DEFAULT FALSE
);

-- Events of the domain that federation must turn into activities, written in the same
-- transaction as the change (the transactional outbox of DESIGN.md §1).
CREATE TABLE outbox_event (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,
    subject_id  BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- An activity to send, stored once; one delivery row per target inbox.
CREATE TABLE outgoing_activity (
    id            BIGSERIAL PRIMARY KEY,
    ap_id         TEXT NOT NULL CONSTRAINT outgoing_activity_ap_id_key UNIQUE,
    signer_ap_id  TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE delivery (
    id               BIGSERIAL PRIMARY KEY,
    activity_id      BIGINT NOT NULL REFERENCES outgoing_activity (id) ON DELETE CASCADE,
    inbox_url        TEXT NOT NULL,
    host             TEXT NOT NULL,
    attempts         INT NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- A worker's lease: rows of a crashed worker become claimable again when it runs out.
    locked_until     TIMESTAMPTZ,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT delivery_activity_inbox_key UNIQUE (activity_id, inbox_url)
);
CREATE INDEX delivery_due_idx ON delivery (next_attempt_at);
CREATE INDEX delivery_host_idx ON delivery (host);

-- Wake idle delivery workers (in this or other processes) when work arrives.
CREATE FUNCTION notify_delivery() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('cenacle_delivery', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER delivery_notify AFTER INSERT ON delivery
    FOR EACH STATEMENT EXECUTE FUNCTION notify_delivery();
CREATE TRIGGER outbox_event_notify AFTER INSERT ON outbox_event
    FOR EACH STATEMENT EXECUTE FUNCTION notify_delivery();
