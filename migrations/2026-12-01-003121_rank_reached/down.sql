DELETE FROM notification WHERE kind = 'rank_reached';
ALTER TABLE notification DROP CONSTRAINT notification_kind;
ALTER TABLE notification ADD CONSTRAINT notification_kind CHECK (kind IN (
    'reply', 'answer_accepted', 'like', 'idea_status', 'badge_awarded', 'join_request',
    'moderation', 'accept_reminder', 'bounty_won', 'contest_result', 'mention', 'champion'));
DROP INDEX reputation_rank_due_idx;
ALTER TABLE reputation DROP COLUMN rank_due;
ALTER TABLE reputation DROP COLUMN rank_told;
