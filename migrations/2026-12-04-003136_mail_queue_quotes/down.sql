ALTER TABLE mail_queue DROP COLUMN quoted_post_ids, DROP COLUMN quoted_comment_ids;
