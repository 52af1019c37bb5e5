-- When the lookup whose answer about a person's handle host was stored last began asking. Two
-- lookups of one handle may run at once, or one answer come slowly: an answer is stored only
-- if its lookup began no earlier than the one stored (`cenacle_db::actors`), so that an older
-- confirmation stored last cannot erase a newer miss (nor an older 404 or 410 undo a newer
-- confirmation). NULL: no answer stored since this was kept.
ALTER TABLE person ADD COLUMN handle_host_asked_at timestamptz;
