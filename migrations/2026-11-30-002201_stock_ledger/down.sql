ALTER TABLE auction DROP COLUMN lot_reserved;
DROP INDEX reward_code_free_idx;
CREATE INDEX reward_code_free_idx ON reward_code (reward_id, id) WHERE order_id IS NULL;
DROP INDEX reward_code_auction_key;
ALTER TABLE reward_code DROP COLUMN auction_id;
DROP TABLE stock_movement;
ALTER TABLE reward DROP CONSTRAINT reward_initial_stock_pair;
ALTER TABLE reward DROP COLUMN initial_stock;
