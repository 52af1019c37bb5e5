-- Digests (issue 16 part 6): a member's local time, and the last digest sent per cadence.

-- Minutes from UTC of the member's local time (null: the instance's
-- `email.default_utc_offset_minutes`). An offset rather than a zone name: no time-zone
-- database is bundled; a member moves it by an hour when summer time changes.
ALTER TABLE local_user ADD COLUMN utc_offset_minutes integer
    CONSTRAINT local_user_utc_offset CHECK (utc_offset_minutes BETWEEN -720 AND 840);

-- The digest period last handled per member and cadence (its due moment, UTC). Moving it
-- forward is the claim: an UPDATE … WHERE slot < new one, so two runs at once (or two
-- servers) send a period's digest once.
CREATE TABLE digest_sent (
    person_id bigint NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    cadence text NOT NULL CONSTRAINT digest_sent_cadence CHECK (cadence IN ('daily', 'weekly')),
    slot timestamptz NOT NULL,
    PRIMARY KEY (person_id, cadence)
);
