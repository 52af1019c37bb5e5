DROP TABLE group_invitation;
DROP TABLE group_join_request;
DROP TABLE group_proposal_backer;
DROP TABLE group_proposal;
DROP INDEX comment_search_idx;
ALTER TABLE comment DROP COLUMN search, DROP COLUMN language;
DROP INDEX post_search_idx;
ALTER TABLE post DROP COLUMN search, DROP COLUMN rating_sum, DROP COLUMN rating_count;
DROP TABLE post_rating;
ALTER TABLE community_group DROP COLUMN rules, DROP COLUMN tags, DROP COLUMN avatar_url,
    DROP COLUMN banner_url, DROP COLUMN dislikes_enabled, DROP COLUMN archived_at;
