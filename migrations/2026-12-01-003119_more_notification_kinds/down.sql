DELETE FROM notification WHERE kind IN ('bounty_won', 'contest_result', 'mention', 'champion');
ALTER TABLE notification DROP COLUMN contest_id;
ALTER TABLE notification DROP CONSTRAINT notification_kind;
ALTER TABLE notification ADD CONSTRAINT notification_kind CHECK (kind IN (
    'reply', 'answer_accepted', 'like', 'idea_status', 'badge_awarded', 'join_request',
    'moderation', 'accept_reminder'));
