-- What a queued digest quotes, where that may stop it being wanted before it is sent: the
-- posts whose titles it quotes (its new answers, unanswered questions and top ideas, and the
-- posts its gathered notifications name) and the comments those notifications tell of. An
-- admin's retry of a parked digest asks whether its member may still read each of those
-- posts, and whether any of them was deleted or removed since the digest was queued
-- (`cenacle_db::mail::retry_parked_mails`). An empty array for a digest that quotes none;
-- NULL for other mails, and for digests queued before these columns existed (not asked).
-- Arrays, not a table with foreign keys, as for `notification_id`: content gone must make
-- the digest unwanted, counted among the mails a retry deletes, not vanish from its list.
ALTER TABLE mail_queue ADD COLUMN quoted_post_ids BIGINT[], ADD COLUMN quoted_comment_ids BIGINT[];
