-- What a delivery worker waits for when idle (`cenacle_db::federation::next_due_at`): the
-- earliest time any queued row may be claimed. It was read from `delivery_due_idx`
-- (next_attempt_at), which holds the leased rows too: a claim leases rows that are due, so
-- they sit at the head of that index, and every idle worker stepped over all of them, then
-- read every leased row once more for its lease's end (a bitmap scan of `delivery_leased_idx`):
-- 12 ms a call with 30,000 of 100,000 rows leased, 0.07 ms now (docs/benchmarks.md, issue 10
-- `next_due_at`; scripts/bench-next-due).
--
-- This index is in claim order (`delivery_claimable_at`: the due time, or a lease's end), so
-- the first entry is the answer, leased or not, unless it belongs to a dead instance (rows
-- queued while their instance was being declared dead, left unparked). Parked rows
-- ('infinity') are left out: they wait for their instance's probe, not for a time.
--
-- It replaces `delivery_due_idx` rather than adding to it: a row still has one entry in a
-- due-time index (written by the same inserts and updates: every update of `next_attempt_at`
-- or `locked_until` already writes new entries in all of delivery's indexes, since
-- `locked_until` is in `delivery_leased_idx`'s predicate), and none while parked. The one
-- other reader of `delivery_due_idx`, the parked count in `queue_stats`, now counts in the
-- same single pass of the table as the other queue totals.
DROP INDEX delivery_due_idx;
CREATE INDEX delivery_claimable_idx ON delivery (delivery_claimable_at(next_attempt_at, locked_until))
  WHERE next_attempt_at < 'infinity';
