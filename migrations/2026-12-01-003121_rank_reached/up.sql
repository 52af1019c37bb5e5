-- A member who reaches a higher rank is told (issue 16: "rank changes"). The rank is computed
-- from counts, not stored, so each reputation row keeps the threshold of the highest rank its
-- member was told of (`rank_told`), and a flag (`rank_due`) set by what can raise the score —
-- a post, a reply, a like or an accepted answer — for a periodic job to look at: the likes
-- path, the busiest, only sets the flag in the row it updates anyway.
--
-- Members already here have NULL: their current rank is recorded silently the first time
-- they are looked at, so an upgrade does not congratulate everyone on old news. Rows made
-- from now on start at 0, the first rank's usual threshold: reaching the next one is news.
ALTER TABLE reputation ADD COLUMN rank_told bigint;
ALTER TABLE reputation ALTER COLUMN rank_told SET DEFAULT 0;
-- Members here before the upgrade whose row was never made (it is made at their first
-- reputation event) are members already ranked too.
INSERT INTO reputation (person_id, rank_told)
SELECT p.id, NULL FROM person p
WHERE p.local AND NOT EXISTS (SELECT 1 FROM reputation r WHERE r.person_id = p.id);
ALTER TABLE reputation ADD COLUMN rank_due boolean NOT NULL DEFAULT FALSE;
CREATE INDEX reputation_rank_due_idx ON reputation (person_id) WHERE rank_due;

ALTER TABLE notification DROP CONSTRAINT notification_kind;
ALTER TABLE notification ADD CONSTRAINT notification_kind CHECK (kind IN (
    'reply', 'answer_accepted', 'like', 'idea_status', 'badge_awarded', 'join_request',
    'moderation', 'accept_reminder', 'bounty_won', 'contest_result', 'mention', 'champion',
    'rank_reached'));
