DROP INDEX vote_comment_idx;
DELETE FROM badge WHERE slug = 'bounty_won';
ALTER TABLE bounty DROP COLUMN winner_id;
