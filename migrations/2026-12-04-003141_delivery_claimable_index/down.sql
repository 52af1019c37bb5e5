DROP INDEX delivery_claimable_idx;
CREATE INDEX delivery_due_idx ON delivery (next_attempt_at);
