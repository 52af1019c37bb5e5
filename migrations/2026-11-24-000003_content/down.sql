ALTER TABLE outbox_event DROP COLUMN actor_id, DROP COLUMN payload;
DROP TABLE idea_status_change;
DROP TABLE post_edit;
DROP TABLE vote;
ALTER TABLE post DROP CONSTRAINT post_accepted_comment_fkey;
DROP TABLE comment;
DROP TABLE post;
DROP TABLE group_membership;
