-- Bounties settled fairly: who won is recorded on the bounty itself (the answer may be deleted
-- later; the award stays on the winner's record), and winners get a badge — the only credit
-- people of other instances get, since only our own members hold points here.
ALTER TABLE bounty ADD COLUMN winner_id BIGINT REFERENCES person (id) ON DELETE SET NULL;
UPDATE bounty b SET winner_id = c.author_id FROM comment c
    WHERE c.id = b.awarded_comment_id AND b.status <> 'open';
CREATE INDEX bounty_winner_idx ON bounty (winner_id) WHERE winner_id IS NOT NULL;

INSERT INTO badge (slug, tier, name_en, name_fr, description_en, description_fr, honorific) VALUES
    ('bounty_won', 'bronze', 'Bounty hunter', 'Chasseur de primes', 'Won a bounty offered on a question',
     'A remporté une prime offerte sur une question', FALSE);

-- A bounty's settlement scores the answers by their votes.
CREATE INDEX vote_comment_idx ON vote (comment_id) WHERE comment_id IS NOT NULL;
