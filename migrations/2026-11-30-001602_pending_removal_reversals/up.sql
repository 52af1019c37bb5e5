-- A moderator's removal reverses what the content earned with rows keyed `{key}:removed:{id}`,
-- pending until the content is restored (then undone) or their cause goes for good (then
-- settled): see `engagement::Reversal`. Few rows are pending at any time; this index keeps
-- finding them (by thread on a restore, by key when a vote or an acceptance goes) off the
-- whole ledger.
CREATE INDEX reputation_event_pending_removal ON reputation_event (post_id, reverses)
    WHERE reverses IS NOT NULL AND NOT reversed AND source_key ~ ':removed:[0-9]+$';
CREATE INDEX points_ledger_pending_removal ON points_ledger (post_id, reverses)
    WHERE reverses IS NOT NULL AND NOT reversed AND source_key ~ ':removed:[0-9]+$';
