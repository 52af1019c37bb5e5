-- Stock as exact as points: every change of a reward's stock or of its pool of free codes is a
-- `stock_movement` row written in the same transaction, so `cenacle admin audit` can check that
-- a reward's stock equals its initial stock plus its movements, and its free codes the sum of
-- its code movements. An auction lot now reserves its unit (and a digital reward's code) when
-- put up, so the shop cannot sell what an auction promises.

-- The stock a reward was created with (NULL: unlimited). Rewards already there start their
-- ledger at today's stock.
ALTER TABLE reward ADD COLUMN initial_stock BIGINT;
UPDATE reward SET initial_stock = stock;
ALTER TABLE reward ADD CONSTRAINT reward_initial_stock_pair
    CHECK ((stock IS NULL) = (initial_stock IS NULL));

CREATE TABLE stock_movement (
    id          BIGSERIAL PRIMARY KEY,
    reward_id   BIGINT NOT NULL REFERENCES reward (id) ON DELETE CASCADE,
    -- `stock`: the reward's counted units; `codes`: its pool of free digital codes.
    pool        TEXT NOT NULL CONSTRAINT stock_movement_pool_check CHECK (pool IN ('stock', 'codes')),
    delta       BIGINT NOT NULL CONSTRAINT stock_movement_delta_check CHECK (delta <> 0),
    reason      TEXT NOT NULL CONSTRAINT stock_movement_reason_check CHECK (reason IN (
        'restock', 'order', 'order_released', 'auction_reserved', 'auction_released',
        'codes_added', 'opening')),
    order_id    BIGINT REFERENCES reward_order (id) ON DELETE SET NULL,
    auction_id  BIGINT REFERENCES auction (id) ON DELETE SET NULL,
    created_by  BIGINT REFERENCES person (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX stock_movement_reward_idx ON stock_movement (reward_id, pool);

-- Codes already free open their pool's ledger.
INSERT INTO stock_movement (reward_id, pool, delta, reason)
SELECT reward_id, 'codes', count(*), 'opening' FROM reward_code WHERE order_id IS NULL
GROUP BY reward_id;

-- A code reserved by an auction lot: no longer free, handed to the winner's order or freed
-- again when the lot does not sell. One code per lot.
ALTER TABLE reward_code ADD COLUMN auction_id BIGINT REFERENCES auction (id);
CREATE UNIQUE INDEX reward_code_auction_key ON reward_code (auction_id) WHERE auction_id IS NOT NULL;
DROP INDEX reward_code_free_idx;
CREATE INDEX reward_code_free_idx ON reward_code (reward_id, id) WHERE order_id IS NULL AND auction_id IS NULL;

-- Whether the lot's unit (and code) was reserved when put up: auctions opened before this
-- migration took nothing, and give nothing back.
ALTER TABLE auction ADD COLUMN lot_reserved BOOLEAN NOT NULL DEFAULT FALSE;
