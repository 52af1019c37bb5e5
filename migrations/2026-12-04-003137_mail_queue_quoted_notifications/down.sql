-- Back to posts and comments: a digest's notices give their posts (where their titles were
-- shown when queued: the retry cannot know now, so all of them, the safe side) and comments
-- to the lists the earlier retry reads. A digest telling of a notification gone since is no
-- longer wanted (the retry of this migration drops it); the earlier one, asking posts and
-- comments only, would send it: such a digest is given a post that cannot exist (id 0, never
-- a sequence's), which the earlier retry drops it for.
ALTER TABLE mail_queue ADD COLUMN quoted_comment_ids BIGINT[];
UPDATE mail_queue q SET
    quoted_post_ids = ARRAY(
        SELECT DISTINCT id FROM unnest(COALESCE(q.quoted_post_ids, '{}') || ARRAY(
            SELECT n.post_id FROM notification n
            WHERE n.id = ANY (q.quoted_notification_ids) AND n.post_id IS NOT NULL) || ARRAY(
            SELECT 0::bigint WHERE EXISTS (
                SELECT 1 FROM unnest(q.quoted_notification_ids) AS told(id)
                WHERE NOT EXISTS (SELECT 1 FROM notification n WHERE n.id = told.id))))
            AS ids(id)
        ORDER BY id),
    quoted_comment_ids = ARRAY(
        SELECT DISTINCT n.comment_id FROM notification n
        WHERE n.id = ANY (q.quoted_notification_ids) AND n.comment_id IS NOT NULL
        ORDER BY n.comment_id)
WHERE q.quoted_notification_ids IS NOT NULL;
ALTER TABLE mail_queue DROP COLUMN quoted_notification_ids;
