-- A gift shop and point auctions, exact as money. Points spent are ledger rows (the balance's
-- CHECKs refuse any spend it does not cover); points held in escrow by a leading bid are rows
-- of their own ledger (`points_hold`: a hold, then exactly one release or capture), cached as
-- `points_balance.held`, and the balance must cover what it holds: available = balance − held.

ALTER TABLE points_balance
    ADD COLUMN held BIGINT NOT NULL DEFAULT 0 CONSTRAINT points_held_not_negative CHECK (held >= 0),
    -- As for the balance's own CHECK, only a reversal (a debt) may leave it below its holds;
    -- a hold, a spend and a correction never may (they set `may_owe` to false). Nothing held:
    -- the balance's own CHECK alone speaks (so a spend beyond the balance keeps its answer,
    -- 409 balance_would_be_negative).
    ADD CONSTRAINT points_balance_covers_holds CHECK (balance >= held OR may_owe OR held = 0);

-- The catalogue. A reward with `in_shop` false is put up only in auctions.
CREATE TABLE reward (
    id               BIGSERIAL PRIMARY KEY,
    name_en          TEXT NOT NULL CONSTRAINT reward_name_en_check CHECK (length(name_en) BETWEEN 1 AND 200),
    name_fr          TEXT NOT NULL CONSTRAINT reward_name_fr_check CHECK (length(name_fr) BETWEEN 1 AND 200),
    description_en   TEXT NOT NULL DEFAULT '',
    description_fr   TEXT NOT NULL DEFAULT '',
    image_media_id   BIGINT REFERENCES media (id) ON DELETE SET NULL,
    kind             TEXT NOT NULL CONSTRAINT reward_kind_check CHECK (kind IN ('physical', 'digital')),
    price            BIGINT NOT NULL CONSTRAINT reward_price_check CHECK (price > 0),
    -- NULL: unlimited. Decremented in the redemption's transaction, under the row's lock.
    stock            BIGINT CONSTRAINT reward_stock_not_negative CHECK (stock >= 0),
    limit_per_member INT CONSTRAINT reward_limit_per_member_check CHECK (limit_per_member >= 1),
    limit_per_period INT CONSTRAINT reward_limit_per_period_check CHECK (limit_per_period >= 1),
    limit_period     TEXT CONSTRAINT reward_limit_period_check CHECK (limit_period IN ('day', 'week', 'month')),
    available_from   TIMESTAMPTZ,
    available_until  TIMESTAMPTZ,
    min_rank_score   BIGINT,
    required_badge_id BIGINT REFERENCES badge (id) ON DELETE SET NULL,
    champions_only   BOOLEAN NOT NULL DEFAULT FALSE,
    in_shop          BOOLEAN NOT NULL DEFAULT TRUE,
    created_by       BIGINT REFERENCES person (id) ON DELETE SET NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT reward_period_pair CHECK ((limit_per_period IS NULL) = (limit_period IS NULL)),
    CONSTRAINT reward_window_check CHECK (available_from < available_until)
);

-- Orders: the member's redemption (or auction win), its debit's ledger key, its fulfilment.
CREATE TABLE reward_order (
    id                  BIGSERIAL PRIMARY KEY,
    reward_id           BIGINT NOT NULL REFERENCES reward (id) ON DELETE RESTRICT,
    person_id           BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    auction_id          BIGINT,
    price               BIGINT NOT NULL CONSTRAINT reward_order_price_check CHECK (price > 0),
    status              TEXT NOT NULL CONSTRAINT reward_order_status_check
        CHECK (status IN ('requested', 'approved', 'shipped', 'delivered', 'refused', 'cancelled')),
    -- The `points_ledger` source key of its debit: a refund reverses exactly that row.
    ledger_key          TEXT NOT NULL CONSTRAINT reward_order_ledger_key UNIQUE,
    tracking_note       TEXT,
    -- Physical rewards only; erased once `address_erase_after` passes (after delivery).
    delivery_address    TEXT,
    address_erase_after TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by          BIGINT REFERENCES person (id) ON DELETE SET NULL
);
-- The per-member limits count live orders of one reward.
CREATE INDEX reward_order_member_idx ON reward_order (reward_id, person_id, created_at)
    WHERE status NOT IN ('refused', 'cancelled');
CREATE INDEX reward_order_person_idx ON reward_order (person_id, id);
CREATE INDEX reward_order_pending_idx ON reward_order (id) WHERE status IN ('requested', 'approved', 'shipped');
CREATE INDEX reward_order_erase_idx ON reward_order (address_erase_after) WHERE delivery_address IS NOT NULL;

-- Codes of digital rewards, uploaded by community managers; each handed to exactly one order.
CREATE TABLE reward_code (
    id         BIGSERIAL PRIMARY KEY,
    reward_id  BIGINT NOT NULL REFERENCES reward (id) ON DELETE CASCADE,
    code       TEXT NOT NULL,
    -- A code handed out is never handed out again: it goes with its order (a member who leaves).
    order_id   BIGINT CONSTRAINT reward_code_order_key UNIQUE REFERENCES reward_order (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT reward_code_key UNIQUE (reward_id, code)
);
CREATE INDEX reward_code_free_idx ON reward_code (reward_id, id) WHERE order_id IS NULL;

CREATE TABLE auction (
    id                BIGSERIAL PRIMARY KEY,
    reward_id         BIGINT NOT NULL REFERENCES reward (id) ON DELETE RESTRICT,
    starts_at         TIMESTAMPTZ NOT NULL,
    ends_at           TIMESTAMPTZ NOT NULL,
    starting_price    BIGINT NOT NULL CONSTRAINT auction_starting_price_check CHECK (starting_price > 0),
    min_increment     BIGINT NOT NULL CONSTRAINT auction_min_increment_check CHECK (min_increment > 0),
    reserve           BIGINT CONSTRAINT auction_reserve_check CHECK (reserve > 0),
    -- Anti-sniping: a bid this close to the end extends it by as much.
    extension_seconds INT NOT NULL CONSTRAINT auction_extension_check CHECK (extension_seconds >= 0),
    status            TEXT NOT NULL DEFAULT 'open' CONSTRAINT auction_status_check
        CHECK (status IN ('open', 'won', 'unsold', 'cancelled')),
    order_id          BIGINT REFERENCES reward_order (id) ON DELETE SET NULL,
    created_by        BIGINT REFERENCES person (id) ON DELETE SET NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    settled_at        TIMESTAMPTZ,
    CONSTRAINT auction_run_check CHECK (starts_at < ends_at)
);
CREATE INDEX auction_open_end_idx ON auction (ends_at) WHERE status = 'open';
ALTER TABLE reward_order ADD CONSTRAINT reward_order_auction_fkey
    FOREIGN KEY (auction_id) REFERENCES auction (id) ON DELETE SET NULL;

CREATE TABLE bid (
    id         BIGSERIAL PRIMARY KEY,
    auction_id BIGINT NOT NULL REFERENCES auction (id) ON DELETE CASCADE,
    person_id  BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    amount     BIGINT NOT NULL CONSTRAINT bid_amount_check CHECK (amount > 0),
    -- leading: its points held; outbid / lost / cancelled: released; won: captured.
    status     TEXT NOT NULL CONSTRAINT bid_status_check
        CHECK (status IN ('leading', 'outbid', 'won', 'lost', 'cancelled')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One leading bid per auction: two bids racing past the auction's lock could not both lead.
CREATE UNIQUE INDEX bid_one_leading ON bid (auction_id) WHERE status = 'leading';
CREATE INDEX bid_auction_idx ON bid (auction_id, id);

-- The escrow ledger: a hold (positive) when a bid leads, then exactly one release (negative:
-- outbid, lost, cancelled, or captured when it wins and the points are spent by a
-- `points_ledger` row in the same transaction).
CREATE TABLE points_hold (
    id         BIGSERIAL PRIMARY KEY,
    person_id  BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    bid_id     BIGINT NOT NULL REFERENCES bid (id) ON DELETE CASCADE,
    delta      BIGINT NOT NULL CONSTRAINT points_hold_delta_check CHECK (delta <> 0),
    reason     TEXT NOT NULL CONSTRAINT points_hold_reason_check
        CHECK (reason IN ('bid', 'outbid', 'lost', 'cancelled', 'captured')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One hold and one release per bid, never two of either.
CREATE UNIQUE INDEX points_hold_once ON points_hold (bid_id, (delta > 0));
CREATE INDEX points_hold_person_idx ON points_hold (person_id);
