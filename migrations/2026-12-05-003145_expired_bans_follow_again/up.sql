-- A ban of a member of ours from a group elsewhere that runs out (its `expires_at` passes)
-- comes with no `Undo{Block}` (Lemmy never sends one): a periodic pass sends the member's
-- Follow again, as the lifting does (the group's server dropped their follow with the ban).
-- Every ban that ran out is marked here once handled (its Follow sent, or, for bans of other
-- kinds, nothing owed; an Undo{Block} of a ban that ran out marks it too when it sends the
-- Follow), so that each is handled once; banning again (the upsert of the ban) clears the mark.
-- The run-out bans of members banned from our instance stay unmarked (and are read at each
-- pass) until that ban ends.
ALTER TABLE group_ban ADD COLUMN expiry_handled_at TIMESTAMPTZ;

-- What the pass claims: bans with an end, not lifted, not handled yet (the bans that ran out
-- before this column existed included: their members have been left without the group's
-- activities, the first pass sends their Follow).
CREATE INDEX group_ban_expiry_unhandled ON group_ban (expires_at)
    WHERE expires_at IS NOT NULL AND lifted_at IS NULL AND expiry_handled_at IS NULL;
