-- When the lookup whose answer about a person's handle host was stored last began asking, by
-- the database's clock (shared by every server, unlike theirs): its confirmation (even one with
-- nothing to renew), miss, forgotten miss or taking of the handle, or a confirmation that gave
-- the handle to someone else. Two lookups of one handle may run at once, or one answer come
-- slowly: an answer is stored only if its lookup began no earlier than the one stored, on every
-- row it changes (`cenacle_db::actors::asked_no_later_than`), so that an older confirmation
-- stored last cannot erase a newer miss nor take the handle back from whoever a newer one gave
-- it to (nor an older 404 or 410 undo a newer confirmation). NULL: no answer stored since this
-- was kept.
ALTER TABLE person ADD COLUMN handle_host_asked_at timestamptz;
