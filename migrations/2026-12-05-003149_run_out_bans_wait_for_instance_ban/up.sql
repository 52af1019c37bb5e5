-- The run-out bans of members of ours banned from our instance (issue 13). Left unclaimed
-- while the instance ban lasts (nothing of theirs goes out), they stayed in the claim's range
-- and were read, then filtered out, at every batch of every pass, ahead of every other ban
-- (they came due first): forever, for an instance ban until lifted. Marking them handled
-- would lose the Follow their member is owed once the instance ban ends: lifting it sends
-- nothing, and their follow of the group is still shown here. So the pass sets them aside,
-- unmarked, until the instance ban's end (`expiry_retry_at`, 'infinity' for a ban until
-- lifted; `cenacle_db::reports::claim_bans_run_out_elsewhere`): out of the claim's range, and
-- claimed again when a ban with an end runs out.
--
-- An instance ban lifted (deleted) or replaced (its end changed, the upsert of a second ban)
-- brings them back at once: their wait is cleared, and the next pass sends the Follow, or
-- sets the ban aside again until the new end. Only the waits this ban set (at its end, or
-- later: a Follow's failure deferred past it is tried at the next pass too, which is
-- harmless). The pass holds the instance ban FOR SHARE while it sets bans aside: a lifting
-- waits for it, and this trigger, run after, sees them (each statement of a function takes a
-- new snapshot under READ COMMITTED).
CREATE FUNCTION instance_ban_ends_set_aside() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE group_ban SET expiry_retry_at = NULL
    WHERE person_id = OLD.person_id
      AND expires_at IS NOT NULL AND lifted_at IS NULL AND expiry_handled_at IS NULL
      AND expiry_retry_at >= COALESCE(OLD.expires_at, 'infinity');
    RETURN NULL;
END $$;
CREATE TRIGGER instance_ban_ends_set_aside AFTER DELETE OR UPDATE OF expires_at ON instance_ban
    FOR EACH ROW EXECUTE FUNCTION instance_ban_ends_set_aside();
