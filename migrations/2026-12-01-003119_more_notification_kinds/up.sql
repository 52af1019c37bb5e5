-- Four more kinds of notification (issue 16): a bounty won (my answer was paid the bounty, or
-- half of it when the bounty ran out), a contest's result (I placed among its winners), a
-- mention (someone wrote @me in a post or comment) and a step of the champions programme
-- taken for me (invited, a new charter to accept, renewed, removed, not renewed).
-- A contest's result links to the contest: its own column, as a badge's.
ALTER TABLE notification DROP CONSTRAINT notification_kind;
ALTER TABLE notification ADD CONSTRAINT notification_kind CHECK (kind IN (
    'reply', 'answer_accepted', 'like', 'idea_status', 'badge_awarded', 'join_request',
    'moderation', 'accept_reminder', 'bounty_won', 'contest_result', 'mention', 'champion'));
ALTER TABLE notification
    ADD COLUMN contest_id bigint REFERENCES contest (id) ON DELETE CASCADE;
