-- An auction's winner, looked up by key. Reading an auction (every bid reads it twice) asked
-- for its winner among all its bids: a hot auction slowed down with each bid it took. One
-- auction has one winning bid at most, as it has one leading bid (`bid_one_leading`).
CREATE UNIQUE INDEX bid_one_winner ON bid (auction_id) WHERE status = 'won';
