DROP TABLE points_hold;
DROP TABLE bid;
ALTER TABLE reward_order DROP CONSTRAINT reward_order_auction_fkey;
DROP TABLE auction;
DROP TABLE reward_code;
DROP TABLE reward_order;
DROP TABLE reward;
ALTER TABLE points_balance DROP CONSTRAINT points_balance_covers_holds, DROP COLUMN held;
