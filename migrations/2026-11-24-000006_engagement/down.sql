ALTER TABLE person DROP COLUMN home_reputation, DROP COLUMN home_rank;
ALTER TABLE instance DROP COLUMN reputation_weight;
DROP TABLE points_ledger;
DROP TABLE points_balance;
DROP TABLE reputation_event;
DROP TABLE reputation;
