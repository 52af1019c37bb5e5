-- The welcome reaches newcomers the sign-up could not greet at once (issue 16): a member whose
-- address was not verified yet gets the welcome mail when they verify it, and a registration
-- waiting for approval is greeted (panel, mail, welcome post) when an admin lets it in.

-- When the welcome mail was queued; NULL while it is still owed (the address unverified).
-- Newcomers before this change were mailed, or not, at sign-up: they are owed nothing.
ALTER TABLE welcome_panel ADD COLUMN mailed_at TIMESTAMPTZ;
UPDATE welcome_panel SET mailed_at = created_at;

-- A registration waiting for approval, and whether the newcomer agreed to be greeted by a
-- post in the welcome group (their answer at sign-up, kept until the decision).
CREATE TABLE welcome_held (
    person_id     BIGINT PRIMARY KEY REFERENCES local_user (person_id) ON DELETE CASCADE,
    welcome_post  BOOLEAN NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
