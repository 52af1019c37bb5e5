-- Debts and scores below the floor cannot be kept by the older constraints: they are written
-- off (the ledgers then no longer add up to them, as before this migration).
UPDATE points_balance SET balance = 0 WHERE balance < 0;
ALTER TABLE points_balance DROP CONSTRAINT points_balance_not_negative;
ALTER TABLE points_balance ADD CONSTRAINT points_balance_not_negative CHECK (balance >= 0);
ALTER TABLE points_balance DROP COLUMN may_owe;
UPDATE reputation SET score = 1 WHERE score < 1;
ALTER TABLE reputation ADD CONSTRAINT reputation_floor CHECK (score >= 1);
