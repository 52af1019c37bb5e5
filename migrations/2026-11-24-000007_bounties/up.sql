-- Bounties: points offered on a question, held in escrow (taken from the sponsor's balance when
-- offered) until awarded or settled at expiry.
CREATE TABLE bounty (
    id                 BIGSERIAL PRIMARY KEY,
    post_id            BIGINT NOT NULL REFERENCES post (id) ON DELETE CASCADE,
    sponsor_id         BIGINT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    amount             BIGINT NOT NULL CONSTRAINT bounty_amount_check CHECK (amount > 0),
    status             TEXT NOT NULL DEFAULT 'open'
        CONSTRAINT bounty_status_check CHECK (status IN ('open', 'awarded', 'expired')),
    awarded_comment_id BIGINT REFERENCES comment (id) ON DELETE SET NULL,
    paid               BIGINT NOT NULL DEFAULT 0,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    ends_at            TIMESTAMPTZ NOT NULL,
    settled_at         TIMESTAMPTZ
);
-- One running bounty per question.
CREATE UNIQUE INDEX bounty_open_post_key ON bounty (post_id) WHERE status = 'open';
CREATE INDEX bounty_open_end_idx ON bounty (ends_at) WHERE status = 'open';
