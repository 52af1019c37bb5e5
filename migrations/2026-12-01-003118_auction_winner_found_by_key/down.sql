DROP INDEX bid_one_winner;
