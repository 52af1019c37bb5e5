-- Stock adjusted by hand: a community manager writes units off (damaged, lost, given away at an
-- event) or adds units received, or corrects a count, with a reason in the record. Each
-- adjustment is a `stock_movement` row like any other stock change, so the audit's
-- `reward_stock` sum (initial stock plus movements) covers it with no rule of its own.

ALTER TABLE stock_movement DROP CONSTRAINT stock_movement_reason_check;
ALTER TABLE stock_movement ADD CONSTRAINT stock_movement_reason_check CHECK (reason IN (
    'restock', 'order', 'order_released', 'auction_reserved', 'auction_released',
    'codes_added', 'opening', 'adjustment'));

-- Why the manager adjusted it (one of a short list, so reports can count write-offs by cause),
-- and what they wrote about it.
ALTER TABLE stock_movement ADD COLUMN adjustment_reason TEXT;
ALTER TABLE stock_movement ADD COLUMN note TEXT;

-- An adjustment always says why, and only an adjustment does; a write-off's reasons only take
-- units away and `received` only adds (a `correction` may go either way): the rule the use case
-- applies, kept by the table too so that no other writer can record a "damaged" unit gained.
ALTER TABLE stock_movement ADD CONSTRAINT stock_movement_adjustment_reason_check CHECK (
    (reason = 'adjustment') = (adjustment_reason IS NOT NULL)
    AND (adjustment_reason IS NULL OR adjustment_reason IN (
        'damaged', 'lost', 'given_away', 'received', 'correction'))
    AND (adjustment_reason NOT IN ('damaged', 'lost', 'given_away') OR delta < 0)
    AND (adjustment_reason <> 'received' OR delta > 0));
ALTER TABLE stock_movement ADD CONSTRAINT stock_movement_note_check CHECK (
    note IS NULL OR (reason = 'adjustment' AND char_length(note) <= 500));

-- The adjustments' history of one reward, newest first (restocks are manual changes too).
CREATE INDEX stock_movement_manual_idx ON stock_movement (reward_id, id)
    WHERE reason IN ('restock', 'adjustment');
