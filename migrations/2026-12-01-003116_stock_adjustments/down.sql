DROP INDEX stock_movement_manual_idx;
ALTER TABLE stock_movement DROP CONSTRAINT stock_movement_note_check;
ALTER TABLE stock_movement DROP CONSTRAINT stock_movement_adjustment_reason_check;
-- Adjustments stay in the ledger as manual changes (their reason and note go): deleting them
-- would leave every adjusted reward's stock off its ledger for the audit.
UPDATE stock_movement SET reason = 'restock' WHERE reason = 'adjustment';
ALTER TABLE stock_movement DROP COLUMN note;
ALTER TABLE stock_movement DROP COLUMN adjustment_reason;
ALTER TABLE stock_movement DROP CONSTRAINT stock_movement_reason_check;
ALTER TABLE stock_movement ADD CONSTRAINT stock_movement_reason_check CHECK (reason IN (
    'restock', 'order', 'order_released', 'auction_reserved', 'auction_released',
    'codes_added', 'opening'));
