DROP INDEX post_group_live_active_idx;
DROP INDEX post_group_live_top_idx;
DROP INDEX post_group_live_new_idx;
