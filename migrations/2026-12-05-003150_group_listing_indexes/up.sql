-- A group's page (and the API's list of its posts) shows its live posts, pinned first, then
-- by the chosen sort: newest (id), top (likes - dislikes) or active (last activity). The only
-- index by group was by creation time, so PostgreSQL read and sorted every live post of the
-- group at each view: 216 ms (p50) for a group of 50,000 posts (docs/benchmarks.md, web
-- pages). One index per sort, over live posts only (the list's own conditions), read in the
-- list's order: a page reads its rows and stops.
CREATE INDEX post_group_live_new_idx ON post (group_id, pinned DESC, id DESC)
    WHERE deleted_at IS NULL AND approval IS NULL AND removed_at IS NULL;
CREATE INDEX post_group_live_top_idx ON post (group_id, pinned DESC, (likes - dislikes) DESC, id DESC)
    WHERE deleted_at IS NULL AND approval IS NULL AND removed_at IS NULL;
CREATE INDEX post_group_live_active_idx ON post (group_id, pinned DESC, last_activity_at DESC, id DESC)
    WHERE deleted_at IS NULL AND approval IS NULL AND removed_at IS NULL;
