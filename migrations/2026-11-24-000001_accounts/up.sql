-- People, local accounts, login tokens, invitations and the one-time setup token.

-- Local and (later) remote actors. Only local people have a local_user row.
CREATE TABLE person (
    id              BIGSERIAL PRIMARY KEY,
    username        TEXT NOT NULL,
    display_name    TEXT,
    bio             TEXT,
    avatar_url      TEXT,
    expertise_tags  TEXT[] NOT NULL DEFAULT '{}',
    local           BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Constraint and index names are part of the API: the error helper turns them into codes.
CREATE UNIQUE INDEX person_local_username_key ON person (username) WHERE local;

CREATE TABLE local_user (
    person_id           BIGINT PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    email               TEXT,
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL DEFAULT 'member'
        CONSTRAINT local_user_role_check
        CHECK (role IN ('admin', 'community_manager', 'moderator', 'staff', 'member')),
    language            TEXT NOT NULL DEFAULT 'en'
        CONSTRAINT local_user_language_check CHECK (language IN ('fr', 'en')),
    status              TEXT NOT NULL DEFAULT 'active'
        CONSTRAINT local_user_status_check
        CHECK (status IN ('active', 'pending_approval', 'suspended')),
    registration_reason TEXT,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX local_user_email_key ON local_user (lower(email));
CREATE INDEX local_user_role_idx ON local_user (role);

-- Bearer tokens are random and shown once; only their SHA-256 is kept, so a database leak
-- does not hand out sessions.
CREATE TABLE auth_token (
    id            BIGSERIAL PRIMARY KEY,
    person_id     BIGINT NOT NULL REFERENCES local_user (person_id) ON DELETE CASCADE,
    token_hash    BYTEA NOT NULL CONSTRAINT auth_token_hash_key UNIQUE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at    TIMESTAMPTZ NOT NULL,
    revoked_at    TIMESTAMPTZ
);
CREATE INDEX auth_token_live_idx ON auth_token (person_id) WHERE revoked_at IS NULL;

CREATE TABLE invite (
    id          BIGSERIAL PRIMARY KEY,
    code_hash   BYTEA NOT NULL CONSTRAINT invite_code_hash_key UNIQUE,
    created_by  BIGINT NOT NULL REFERENCES local_user (person_id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_by     BIGINT REFERENCES person (id) ON DELETE SET NULL,
    used_at     TIMESTAMPTZ
);

-- At most one row: the token printed at first start that lets its holder create the first admin.
CREATE TABLE setup_token (
    id          INT PRIMARY KEY DEFAULT 1 CONSTRAINT setup_token_single_row CHECK (id = 1),
    token_hash  BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    used_at     TIMESTAMPTZ
);
