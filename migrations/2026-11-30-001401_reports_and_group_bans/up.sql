-- Reports (issue 13 item 1) and bans from a group (item 2).

-- A group's own list of report reasons. A group with no rows uses the defaults of
-- `cenacle_domain::reports::DEFAULT_REASONS`; its moderators replace the list as a whole.
CREATE TABLE group_report_reason (
    group_id BIGINT NOT NULL REFERENCES community_group (id) ON DELETE CASCADE,
    code TEXT NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    label TEXT NOT NULL CHECK (char_length(label) BETWEEN 1 AND 200),
    position INT NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, code)
);

-- One report: filed here by a member (origin_host NULL), or received as a `Flag` from another
-- server (origin_host = its host; reporter = the sending actor, often that server's instance
-- actor). `ap_id` is the Flag's id, ours or theirs: a second copy of a Flag changes nothing.
CREATE TABLE report (
    id BIGSERIAL PRIMARY KEY,
    -- NULL: a report of a person outside any group (for the instance's admins).
    group_id BIGINT REFERENCES community_group (id) ON DELETE CASCADE,
    reporter_id BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    -- Whether the reporter agreed that their name leaves this instance with the Flag.
    share_identity BOOLEAN NOT NULL DEFAULT FALSE,
    target_person_id BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    target_post_id BIGINT REFERENCES post (id) ON DELETE SET NULL,
    target_comment_id BIGINT REFERENCES comment (id) ON DELETE SET NULL,
    reason_code TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '' CHECK (char_length(body) <= 5000),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'dismissed')),
    resolution_note TEXT,
    resolved_by BIGINT REFERENCES person (id) ON DELETE SET NULL,
    resolved_at TIMESTAMPTZ,
    ap_id TEXT UNIQUE,
    origin_host TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((status = 'open') = (resolved_at IS NULL))
);
CREATE INDEX report_queue_idx ON report (group_id, status, id);
CREATE INDEX report_reporter_idx ON report (reporter_id, id);

-- A person banned from a group, until `expires_at` (NULL: for good). Checked at use time, so
-- an expired ban needs no job to lift it. `ap_id`: the Block's id (ours or the group's
-- server's), for the Undo.
CREATE TABLE group_ban (
    group_id BIGINT NOT NULL REFERENCES community_group (id) ON DELETE CASCADE,
    person_id BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    banned_by BIGINT REFERENCES person (id) ON DELETE SET NULL,
    reason TEXT NOT NULL DEFAULT '',
    expires_at TIMESTAMPTZ,
    remove_data BOOLEAN NOT NULL DEFAULT FALSE,
    ap_id TEXT,
    -- A lifted ban stays (the Undo{Block} is built from it) and no longer counts.
    lifted_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, person_id)
);
