-- E-mail (issue 16, parts 1 and 2): verified addresses, single-use account tokens, the mail
-- queue, per-kind opt-outs and the secret that signs unsubscribe links.

-- Accounts that had an address before verification existed keep signing in: they are taken
-- as verified (nobody could have verified them).
ALTER TABLE local_user ADD COLUMN email_verified_at TIMESTAMPTZ;
UPDATE local_user SET email_verified_at = created_at WHERE email IS NOT NULL;

-- Tokens e-mailed to a member (verify an address, reset a password, confirm a new address).
-- Only their SHA-256 is kept; each is spent once (`used_at`) and dies at `expires_at`.
-- `email` is the address the token proves (verification, change), checked when it is spent.
CREATE TABLE account_token (
    id          BIGSERIAL PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES local_user (person_id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL CONSTRAINT account_token_purpose_check
        CHECK (purpose IN ('verify_email', 'reset_password', 'change_email')),
    token_hash  BYTEA NOT NULL CONSTRAINT account_token_hash_key UNIQUE,
    email       TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX account_token_person_idx ON account_token (person_id, purpose);

-- Mails waiting to be handed to the SMTP server, rendered when queued (in the transaction of
-- what caused them). Workers claim rows under a lease (`locked_until`, FOR UPDATE SKIP
-- LOCKED), retry with backoff and park a row (`parked_at`) after its last attempt. A row
-- leaves the queue once the SMTP server accepted it: the bodies (which may carry a token)
-- do not stay in the database.
CREATE TABLE mail_queue (
    id                BIGSERIAL PRIMARY KEY,
    person_id         BIGINT REFERENCES person (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL,
    to_address        TEXT NOT NULL,
    subject           TEXT NOT NULL,
    text_body         TEXT NOT NULL,
    html_body         TEXT NOT NULL,
    -- The one-click unsubscribe URL (List-Unsubscribe), for kinds one may opt out of.
    unsubscribe_url   TEXT,
    -- Stable across retries: a receiver seeing one message twice can tell.
    message_id        TEXT NOT NULL,
    attempts          INT NOT NULL DEFAULT 0,
    next_attempt_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    locked_until      TIMESTAMPTZ,
    last_error        TEXT,
    parked_at         TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX mail_queue_due_idx ON mail_queue (next_attempt_at) WHERE parked_at IS NULL;

-- Kinds of mail a member asked not to receive (transactional mails cannot be refused).
CREATE TABLE email_opt_out (
    person_id   BIGINT NOT NULL REFERENCES local_user (person_id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, kind)
);

-- Secrets of this instance made once (gen_random_uuid draws from a strong source: 244
-- random bits for two of them).
CREATE TABLE instance_secret (
    name   TEXT PRIMARY KEY,
    value  BYTEA NOT NULL
);
INSERT INTO instance_secret (name, value)
VALUES ('unsubscribe',
        decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

-- Mail workers wake when mails are queued.
CREATE FUNCTION notify_mail() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('cenacle_mail', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER mail_queue_notify AFTER INSERT ON mail_queue
    FOR EACH STATEMENT EXECUTE FUNCTION notify_mail();
